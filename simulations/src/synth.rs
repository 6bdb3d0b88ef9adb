//! Synthetic members and their readings, drawn from the population model through keyed
//! streams: a member's attributes and traits from (seed, member, replication), one period's
//! readings from (seed, member, replication, period).

use crate::SimError;
use crate::population::{FINGER_STICK_READINGS_PER_MONTH_MAX, Population};
use crate::response::{ADAG_MMOL_L_PER_HBA1C_POINT, Behaviour, hba1c_of_mean_glucose};
use crate::stream::{Purpose, stream};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use incentive_engine::policy::MemberProfile;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::{
    Context, Glucose, GlucoseValue, Hba1c, LabResult, MemberId, Period, Reading, Readings,
    ReadingsBuilder, Source,
};
use rand::Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};
use rust_decimal::Decimal;

/// A member as drawn: what policies read, and the traits that drive their readings.
#[derive(Clone, Debug)]
pub struct Member {
    pub profile: MemberProfile,
    /// Chance of measuring at all in a month.
    pub measure_probability: f64,
    /// Readings in a month they measure, on average.
    pub readings_per_month: f64,
    /// Mean fasting glucose at the start, mmol/L.
    pub fasting_mean_mmol_l: f64,
    /// Wears a continuous glucose monitor instead of finger-sticking.
    pub cgm: bool,
}

impl Member {
    /// The member's HbA1c at the start, in percent: through the ADAG relation from the mean of
    /// their fasting and post-meal glucose (as their lab results are drawn).
    pub fn baseline_hba1c_percent(&self, model: &Population) -> f64 {
        hba1c_of_mean_glucose(day_mean(model, self.fasting_mean_mmol_l))
    }
}

/// The mean of a member's readings over a day, fasting and post-meal in the model's shares, from
/// their mean fasting glucose.
pub fn day_mean(model: &Population, fasting_mean_mmol_l: f64) -> f64 {
    fasting_mean_mmol_l
        + model.glycaemia.post_meal_rise_mmol_l * (1.0 - model.measuring.fasting_share)
}

/// A member's mean fasting glucose in the period `period_index` periods after the first, of
/// `months_in` months, under `behaviour`: their own level, the population's drift over the
/// first year, and the plan's response. What their readings and lab results are drawn around,
/// and what the outcomes judge them by.
pub fn fasting_mean(
    model: &Population,
    member: &Member,
    behaviour: &Behaviour,
    period_index: u64,
    months_in: u32,
) -> f64 {
    let months_elapsed = f64::from(months_in) * period_index as f64;
    let level = member.fasting_mean_mmol_l
        * (1.0 + model.glycaemia.yearly_drift_share * (months_elapsed / 12.0).min(1.0))
        * behaviour.glucose_factor;
    if behaviour.hba1c_fall_points == 0.0 {
        return level;
    }
    // The response is read at the period's middle.
    let fall = behaviour.fall_points(
        model,
        member.baseline_hba1c_percent(model),
        months_elapsed + f64::from(months_in) / 2.0,
    );
    level - ADAG_MMOL_L_PER_HBA1C_POINT * fall
}

/// Member ids: `S0000001`… — the same in every replication, plan and shard.
pub fn member_id(index: u64) -> Result<MemberId, SimError> {
    MemberId::parse(&format!("S{index:07}")).map_err(|e| SimError::Model(e.to_string()))
}

fn weighted<'a, T>(
    rng: &mut impl Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> f64,
) -> Option<&'a T> {
    let total: f64 = items.iter().map(&weight).sum();
    let mut u = rng.random::<f64>() * total;
    for item in items {
        u -= weight(item);
        if u < 0.0 {
            return Some(item);
        }
    }
    items.last()
}

fn dist_error(what: &str, e: impl std::fmt::Display) -> SimError {
    SimError::Model(format!("{what}: {e}"))
}

/// Draws member `index` of replication `replication`.
pub fn member(
    model: &Population,
    seed: u64,
    index: u64,
    replication: u64,
    enrolled_on: NaiveDate,
) -> Result<Member, SimError> {
    let mut rng = stream(seed, index, replication, 0, Purpose::Member);
    let m = &model.members;
    let band = weighted(&mut rng, &m.age_bands, |b| b.weight)
        .ok_or_else(|| SimError::Model("members.age_bands is empty".into()))?;
    let age = rng.random_range(band.from_years..=band.to_years);
    let sex = if rng.random::<f64>() < m.female_share {
        "female"
    } else {
        "male"
    };
    let region = weighted(&mut rng, &m.regions, |r| r.weight)
        .ok_or_else(|| SimError::Model("members.regions is empty".into()))?;
    let type2 = rng.random::<f64>() < m.type2_share;
    let insulin = !type2 || rng.random::<f64>() < m.type2_insulin_share;

    let ms = &model.measuring;
    let measure_probability = if rng.random::<f64>() < ms.regular_share {
        ms.regular_monthly_probability
    } else {
        ms.irregular_monthly_probability
    };
    let shape = ms.readings_rate_shape;
    let rate = Gamma::new(shape, ms.readings_per_measuring_month / shape)
        .map_err(|e| dist_error("readings rate", e))?;
    let g = &model.glycaemia;
    let fasting = LogNormal::new(g.fasting_median_mmol_l.ln(), g.fasting_log_sd)
        .map_err(|e| dist_error("fasting glucose", e))?;
    Ok(Member {
        profile: MemberProfile {
            id: member_id(index)?,
            age: Some(age),
            sex: Some(sex.into()),
            region: Some(region.name.clone()),
            diabetes_type: Some(if type2 { "type2" } else { "type1" }.into()),
            insulin: Some(insulin),
            enrolled_on: Some(enrolled_on),
            attributes: {
                let mut a = model.members.attributes.clone();
                if let Some(g) = &model.members.groups {
                    a.insert(g.attribute.clone(), AttributeValue::Text(g.of(index)));
                }
                a
            },
        },
        measure_probability,
        readings_per_month: rate.sample(&mut rng),
        fasting_mean_mmol_l: fasting.sample(&mut rng),
        cgm: model.cgm.wearing_share > 0.0
            && stream(seed, index, replication, 0, Purpose::Cgm).random::<f64>()
                < model.cgm.wearing_share,
    })
}

/// Whose draws: a member of a replication of a seeded run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw {
    pub seed: u64,
    pub member: u64,
    pub replication: u64,
}

/// What one period of a member gives: readings, and perhaps an HbA1c result.
#[derive(Debug)]
pub struct PeriodData {
    pub readings: Readings,
    pub lab: Option<LabResult>,
    /// Whether the member measured at all.
    pub measured: bool,
}

impl PeriodData {
    /// Whether the member measured, and nothing else: no readings, no lab.
    pub fn measured_only(measured: bool) -> Self {
        Self {
            readings: ReadingsBuilder::new().finish().readings,
            lab: None,
            measured,
        }
    }
}

/// Months in a period of this kind.
pub fn months(period: Period) -> u32 {
    match period.kind() {
        incentive_engine::PeriodKind::Monthly => 1,
        incentive_engine::PeriodKind::Quarterly => 3,
        incentive_engine::PeriodKind::Annual => 12,
    }
}

/// Draws a member's readings in the period `period_index` periods after the first, behaving as
/// `behaviour` says (under a plan, or with none).
pub fn period_data(
    model: &Population,
    member: &Member,
    behaviour: &Behaviour,
    draw: Draw,
    period_index: u64,
    period: Period,
    zone: Tz,
) -> Result<PeriodData, SimError> {
    drawn(
        model,
        member,
        behaviour,
        draw,
        (period_index, period),
        zone,
        true,
    )
}

/// Whether a member measured in the period, as [`period_data`] would draw it — from the very
/// same random numbers, stopping at the first reading: what an arm no plan decides needs.
pub fn measured(
    model: &Population,
    member: &Member,
    behaviour: &Behaviour,
    draw: Draw,
    period_index: u64,
    period: Period,
    zone: Tz,
) -> Result<bool, SimError> {
    Ok(drawn(
        model,
        member,
        behaviour,
        draw,
        (period_index, period),
        zone,
        false,
    )?
    .measured)
}

/// [`period_data`], or with `whole` false only as far as the first reading (no readings kept,
/// no lab drawn).
fn drawn(
    model: &Population,
    member: &Member,
    behaviour: &Behaviour,
    draw: Draw,
    (period_index, period): (u64, Period),
    zone: Tz,
    whole: bool,
) -> Result<PeriodData, SimError> {
    let mut rng = stream(
        draw.seed,
        draw.member,
        draw.replication,
        period_index + 1,
        Purpose::Readings,
    );
    let first = period
        .first_day()
        .ok_or_else(|| SimError::Model(format!("period {period} has no first day")))?;
    let days = (period.next().first_day().unwrap_or(first) - first)
        .num_days()
        .max(1);
    let months_in = months(period);
    let g = &model.glycaemia;
    let fasting_mean = fasting_mean(model, member, behaviour, period_index, months_in);
    // A member's rate is a Gamma draw, unbounded above: without the cap one member drawn far
    // in its tail would take billions of readings in a month, and the run its memory and time.
    let rate = (member.readings_per_month * behaviour.readings_factor)
        .min(FINGER_STICK_READINGS_PER_MONTH_MAX);

    if member.cgm {
        // A wearer's 24-hour mean: fasting most of the day, higher after meals.
        let mean = fasting_mean + g.post_meal_rise_mmol_l * 0.5;
        let mut builder = ReadingsBuilder::new();
        let count = crate::cgm::trace(
            model,
            mean,
            period,
            zone,
            &mut rng,
            whole.then_some(&mut builder),
        )?;
        if !whole {
            return Ok(PeriodData::measured_only(count > 0));
        }
        let lab = lab_result(model, fasting_mean, months_in, first, days, zone, &mut rng)?;
        return Ok(PeriodData {
            measured: count > 0,
            readings: builder.finish().readings,
            lab,
        });
    }
    let mut count = 0_u64;
    for _ in 0..months_in {
        if rng.random::<f64>() < member.measure_probability {
            let n = Poisson::new(rate.max(1e-9))
                .map_err(|e| dist_error("readings in a month", e))?
                .sample(&mut rng);
            // A month the member measures has at least one reading, and at most the cap.
            count += (n as u64).clamp(1, FINGER_STICK_READINGS_PER_MONTH_MAX as u64);
            if !whole {
                return Ok(PeriodData::measured_only(true));
            }
        }
    }
    if !whole {
        return Ok(PeriodData::measured_only(false));
    }
    let noise = LogNormal::new(0.0, g.within_member_cv).map_err(|e| dist_error("noise", e))?;
    let mut builder = ReadingsBuilder::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        let day = first + Duration::days(rng.random_range(0..days));
        let fasting = rng.random::<f64>() < model.measuring.fasting_share;
        let (hour, mean, context) = if fasting {
            (rng.random_range(6..=7), fasting_mean, Context::Fasting)
        } else {
            (
                rng.random_range(9..=20),
                fasting_mean + g.post_meal_rise_mmol_l,
                Context::PostMeal,
            )
        };
        let minute = rng.random_range(0..60);
        let local = day
            .and_hms_opt(hour, minute, 0)
            .ok_or_else(|| SimError::Model("a reading time".into()))?;
        let Some(time) = zone.from_local_datetime(&local).earliest() else {
            continue;
        };
        // Meters show one decimal and read 1.1 to 33.3 mmol/L.
        let mmol_l = ((mean * noise.sample(&mut rng)).clamp(1.1, 33.3) * 10.0).round() / 10.0;
        let value = Glucose::from_mmol_l(mmol_l).map_err(|e| dist_error("a reading", e))?;
        builder.push(Reading {
            time: time.fixed_offset(),
            value: GlucoseValue::Measured(value),
            context,
            source: Source::Smbg,
        });
    }
    let lab = lab_result(model, fasting_mean, months_in, first, days, zone, &mut rng)?;
    Ok(PeriodData {
        measured: count > 0,
        readings: builder.finish().readings,
        lab,
    })
}

/// An HbA1c result about once a quarter, from the mean glucose through the ADAG relation
/// (HbA1c % = (mean mmol/L + 2.59) / 1.59).
fn lab_result(
    model: &Population,
    fasting_mean: f64,
    months_in: u32,
    first: NaiveDate,
    days: i64,
    zone: Tz,
    rng: &mut impl Rng,
) -> Result<Option<LabResult>, SimError> {
    let lab_chance = f64::from(months_in) / 3.0;
    if rng.random::<f64>() >= lab_chance {
        return Ok(None);
    }
    let percent = (hba1c_of_mean_glucose(day_mean(model, fasting_mean)) * 10.0).round() / 10.0;
    let percent = Decimal::from_f64_retain(percent.clamp(3.0, 20.0))
        .map(|d| d.round_dp(1))
        .ok_or_else(|| SimError::Model("an HbA1c value".into()))?;
    let day = first + Duration::days(rng.random_range(0..days));
    let local = day
        .and_hms_opt(9, 0, 0)
        .ok_or_else(|| SimError::Model("a lab time".into()))?;
    Ok(match zone.from_local_datetime(&local).earliest() {
        Some(time) => Some(LabResult {
            time: time.fixed_offset(),
            hba1c: Hba1c::from_percent(percent).map_err(|e| dist_error("HbA1c", e))?,
        }),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The no-plan arm, when no plan decides it, draws only as far as a member's first reading;
    /// whether they measured must be what the whole draw says, finger-stick or sensor.
    #[test]
    fn whether_a_member_measured_is_the_same_drawn_to_the_first_reading_or_in_full() {
        let mut model = Population::default();
        model.measuring.regular_share = 0.3;
        let mut seen = [0_u32; 2];
        for wearing in [0.0, 1.0] {
            model.cgm.wearing_share = wearing;
            model.cgm.wear_share = 0.3;
            let behaviour = Behaviour::NONE;
            let enrolled = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            for m in 0..150 {
                let who = member(&model, 3, m, 0, enrolled).unwrap();
                let draw = Draw {
                    seed: 3,
                    member: m,
                    replication: 0,
                };
                let month = Period::parse("2026-02").unwrap();
                let zone = chrono_tz::Asia::Shanghai;
                let whole = period_data(&model, &who, &behaviour, draw, 1, month, zone).unwrap();
                let first = measured(&model, &who, &behaviour, draw, 1, month, zone).unwrap();
                assert_eq!(first, whole.measured, "member {m}, sensor share {wearing}");
                seen[usize::from(first)] += 1;
            }
        }
        assert!(
            seen[0] > 0 && seen[1] > 0,
            "both kinds of member drawn: {seen:?}"
        );
    }

    /// Found by `fuzz/fuzz_targets/population_toml.rs`: a member's rate is a Gamma draw with no
    /// upper bound, and every reading drawn was allocated and generated.
    #[test]
    fn a_member_drawn_far_above_the_average_rate_takes_at_most_a_reading_an_hour() {
        let model = Population::default();
        let draw = Draw {
            seed: 7,
            member: 1,
            replication: 0,
        };
        let enrolled_on = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut who = member(
            &model,
            draw.seed,
            draw.member,
            draw.replication,
            enrolled_on,
        )
        .unwrap();
        who.cgm = false;
        who.measure_probability = 1.0;
        who.readings_per_month = 1e6;
        let march = Period::parse("2026-03").unwrap();
        let data = period_data(
            &model,
            &who,
            &Behaviour::under_plan(&model, 1.0),
            draw,
            0,
            march,
            chrono_tz::Asia::Shanghai,
        )
        .unwrap();
        assert!(data.measured);
        assert!(
            data.readings.len() as f64 <= FINGER_STICK_READINGS_PER_MONTH_MAX,
            "{} readings in a month",
            data.readings.len()
        );
    }
}
