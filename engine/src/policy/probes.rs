//! Probe records: a few members of very different shapes that `policy check` runs every
//! script against, so that a type error (a metric that is `()` for a member without fasting
//! readings, a lookup outside a table) is found when the policy is checked, not when a
//! member is paid. The property tests go further with random records.

use super::attributes::{AttributeKind, AttributeValue};
use super::diagnostics::{Diagnostics, SourceFile};
use super::evaluate::{EvaluationError, EvaluationInput, Policy};
use super::inputs::{History, MemberProfile, PriorOutcome};
use super::record_view::MetricValue;
use crate::glucose::{Glucose, GlucoseValue};
use crate::lab::{Hba1c, LabResult};
use crate::member::MemberId;
use crate::period::Period;
use crate::reading::{Context, Reading, Source};
use crate::readings::{Readings, ReadingsBuilder};
use chrono::{DateTime, Duration, FixedOffset, Offset, TimeZone, Utc};
use rust_decimal::Decimal;

/// A named member-period to try a policy on.
#[derive(Clone, Debug)]
pub struct Probe {
    pub description: &'static str,
    pub member: MemberProfile,
    pub period: Period,
    pub readings: Readings,
    pub labs: Vec<LabResult>,
    pub history: History,
}

impl Probe {
    /// What an evaluation of this probe reads.
    pub fn input(&self) -> EvaluationInput<'_> {
        EvaluationInput {
            member: &self.member,
            period: self.period,
            readings: &self.readings,
            labs: &self.labs,
            history: &self.history,
        }
    }
}

fn local(zone: chrono_tz::Tz, t: DateTime<Utc>) -> DateTime<FixedOffset> {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.with_timezone(&offset)
}

fn reading(
    zone: chrono_tz::Tz,
    t: DateTime<Utc>,
    value: GlucoseValue,
    context: Context,
    source: Source,
) -> Reading {
    Reading {
        time: local(zone, t),
        value,
        context,
        source,
    }
}

fn mg(v: f64) -> GlucoseValue {
    Glucose::from_mg_dl(v).map_or(GlucoseValue::High, GlucoseValue::Measured)
}

/// The probes for a policy: its first period in effect, in its zone.
pub fn probes(policy: &Policy) -> Vec<Probe> {
    let m = &policy.manifest;
    let zone = m.timezone;
    let period = Period::containing_day(m.period, m.effective_from);
    let Ok(window) = period.window(zone) else {
        return Vec::new();
    };
    let start = window.start;
    let days = (window.end - window.start).num_days().max(1);
    let id = |s: &str| MemberId::parse(s).ok();
    let Some(bare) = id("probe-empty") else {
        return Vec::new();
    };
    let mut out = vec![Probe {
        description: "a member with no readings, no labs, no attributes and no history",
        member: MemberProfile::new(bare),
        period,
        readings: Readings::default(),
        labs: Vec::new(),
        history: History::default(),
    }];

    let mut one = ReadingsBuilder::new();
    one.push(reading(
        zone,
        start + Duration::hours(8),
        mg(250.0),
        Context::Random,
        Source::Unspecified,
    ));
    if let Some(member) = id("probe-one") {
        out.push(Probe {
            description: "a member with a single untagged reading",
            member: MemberProfile::new(member),
            period,
            readings: one.finish().readings,
            labs: Vec::new(),
            history: History::default(),
        });
    }

    // Finger-stick: fasting and post-meal every day, some out of range, a LO and a HI.
    let fasting = [100.8, 133.2, 75.6, 198.0, 273.6, 90.0];
    let after = [160.0, 210.0, 140.0, 300.0];
    let mut smbg = ReadingsBuilder::new();
    for d in 0..days {
        let day = start + Duration::days(d);
        let f = fasting
            .get(d as usize % fasting.len())
            .copied()
            .unwrap_or(100.0);
        smbg.push(reading(
            zone,
            day + Duration::hours(7),
            mg(f),
            Context::Fasting,
            Source::Smbg,
        ));
        let p = after
            .get(d as usize % after.len())
            .copied()
            .unwrap_or(150.0);
        smbg.push(reading(
            zone,
            day + Duration::minutes(9 * 60 + 30),
            mg(p),
            Context::PostMeal,
            Source::Smbg,
        ));
    }
    smbg.push(reading(
        zone,
        start + Duration::hours(22),
        GlucoseValue::Low,
        Context::Bedtime,
        Source::Smbg,
    ));
    smbg.push(reading(
        zone,
        start + Duration::hours(23),
        GlucoseValue::High,
        Context::Random,
        Source::Smbg,
    ));
    let lab = |days_before: i64, percent: i64| {
        Hba1c::from_percent(Decimal::new(percent, 1))
            .ok()
            .map(|hba1c| LabResult {
                time: local(zone, start - Duration::days(days_before)),
                hba1c,
            })
    };
    let labs: Vec<LabResult> = [lab(300, 92), lab(120, 78), lab(10, 69)]
        .into_iter()
        .flatten()
        .collect();
    let mut history = History {
        premium_loading_percent: Decimal::new(5, 0),
        pool_paid: Some(Decimal::ZERO),
        group_paid_this_year: Some(Decimal::ZERO),
        ..History::default()
    };
    let mut p = period;
    for i in 0..14 {
        p = p.previous();
        history.outcomes.push(PriorOutcome {
            period: p,
            reward: Decimal::new(1000, 2),
            premium_adjustment_percent: Decimal::ZERO,
            tier: Some(
                ["bronze", "silver", "gold"]
                    .get(i % 3)
                    .copied()
                    .unwrap_or("gold")
                    .to_owned(),
            ),
            points: 100,
            qualified: i % 4 != 3,
            // Each kept metric as a number, and once undefined, as a period without the
            // readings for it has it.
            metrics: m
                .history
                .keep
                .iter()
                .map(|k| {
                    let v = if i == 2 {
                        MetricValue::Missing
                    } else {
                        MetricValue::Integer(40 + i as i64)
                    };
                    (k.name().to_owned(), v)
                })
                .collect(),
        });
    }
    if let Some(member) = id("probe-smbg") {
        out.push(Probe {
            description: "a finger-stick member measuring twice a day, with LO/HI flags, three HbA1c results and a year of history",
            member: MemberProfile {
                id: member,
                age: Some(58),
                sex: Some("female".to_owned()),
                region: Some("guizhou".to_owned()),
                diabetes_type: Some("type2".to_owned()),
                insulin: Some(true),
                enrolled_on: Some(m.effective_from - Duration::days(400)),
                attributes: Default::default(),
            },
            period,
            readings: smbg.finish().readings,
            labs,
            history,
        });
    }

    // CGM: every 5 minutes for most of the period, swinging through every range.
    let mut cgm = ReadingsBuilder::new();
    let n = (days * 288 * 3 / 4).min(30_000);
    for i in 0..n {
        let phase = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
        cgm.push(reading(
            zone,
            start + Duration::minutes(5 * i),
            mg(150.0 + 110.0 * phase.sin()),
            Context::Unknown,
            Source::Cgm,
        ));
    }
    if let Some(member) = id("probe-cgm") {
        out.push(Probe {
            description: "a CGM member wearing a sensor for three quarters of the period",
            member: MemberProfile {
                age: Some(40),
                insulin: Some(false),
                diabetes_type: Some("type1".to_owned()),
                ..MemberProfile::new(member)
            },
            period,
            readings: cgm.finish().readings,
            labs: Vec::new(),
            history: History::default(),
        });
    }
    // Every probe has the attributes the policy declares; the bare member lacks the optional
    // ones, so a script reading one unchecked fails here, not on a member.
    for probe in &mut out {
        // A plan whose year runs from enrolment cannot decide a member without the date.
        if m.caps.year == super::manifest::CapYear::Enrolment && probe.member.enrolled_on.is_none()
        {
            probe.member.enrolled_on = Some(m.effective_from - Duration::days(100));
        }
        let bare = probe.member.id.as_str() == "probe-empty";
        probe.member.attributes = m
            .attributes
            .0
            .iter()
            .filter(|d| !(bare && d.optional))
            .map(|d| (d.name.clone(), sample(d.kind)))
            .collect();
    }
    out
}

/// A plausible value of an attribute of `kind`.
fn sample(kind: AttributeKind) -> AttributeValue {
    match kind {
        AttributeKind::Money => AttributeValue::Text("100.00".to_owned()),
        AttributeKind::Text => AttributeValue::Text("probe".to_owned()),
        AttributeKind::Count => AttributeValue::Integer(3),
        AttributeKind::Date => AttributeValue::Text("2025-06-30".to_owned()),
        AttributeKind::Flag => AttributeValue::Flag(true),
    }
}

/// Runs the policy on every probe and reports each failure at the script line it came from.
pub(crate) fn check(policy: &Policy, script: &SourceFile, diags: &mut Diagnostics) {
    let mut seen: Vec<String> = Vec::new();
    for probe in probes(policy) {
        if let Err(e) = policy.evaluate(&probe.input()) {
            // The same fault on several probes is one problem to fix.
            let message = e.to_string();
            if seen.contains(&message) {
                continue;
            }
            seen.push(message);
            let span = match &e {
                EvaluationError::Script {
                    line: Some(l),
                    column,
                    ..
                }
                | EvaluationError::BadDecision {
                    line: Some(l),
                    column,
                    ..
                } => {
                    let at = script.offset_of(*l, column.unwrap_or(1));
                    at..at
                }
                _ => 0..0,
            };
            diags
                .error(
                    "probe",
                    script,
                    span,
                    format!("fails on a probe record: {e}"),
                )
                .help(format!("the probe: {}", probe.description));
            // A script that ran out of time or operations on one probe would on the next
            // too: checking a package costs one evaluation's budget, not one a probe.
            if matches!(
                e,
                EvaluationError::Script {
                    out_of_budget: true,
                    ..
                }
            ) {
                break;
            }
        }
    }
}
