//! A decision: what a member gets for a period under a policy version, and why.
//!
//! It carries everything needed to replay and check it (product.md, "Decisions"): the
//! policy's content hash, the engine version, a canonical hash of the inputs, the metrics the
//! rules read, and the explanation — one line per rule step from the script, then one per cap
//! and rounding step the engine applied. Serialised with [`Decision::to_json`], the same inputs
//! always give the same bytes.

use super::explanation::Line;
use super::record_view::MetricValue;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::SerializeMap;

/// The engine's version, written into every decision.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The metrics a decision read, in a fixed order, with the values it saw.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MetricsUsed(pub Vec<(&'static str, MetricValue)>);

impl MetricsUsed {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// By name: how a later period's history holds the metrics kept.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, MetricValue> {
        self.0
            .iter()
            .map(|(name, value)| ((*name).to_owned(), *value))
            .collect()
    }
}

impl Serialize for MetricsUsed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub member_id: String,
    pub policy_id: String,
    pub policy_version: String,
    pub policy_hash: String,
    pub engine_version: String,
    pub period: String,
    pub input_hash: String,
    pub currency: String,
    /// Paid to the member, in the policy's currency, rounded to its minor unit, within caps.
    pub reward: Decimal,
    /// Change to the premium in percent; negative is a discount.
    pub premium_adjustment_percent: Decimal,
    pub tier: Option<String>,
    pub points: i64,
    /// Whether the member met the plan's target (what streaks count).
    pub qualified: bool,
    pub flags: Vec<String>,
    pub metrics_used: MetricsUsed,
    /// What the rules read of each month or quarter inside the period (`record.months()`,
    /// `record.quarters()`), by that period.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics_used_by_period: std::collections::BTreeMap<String, MetricsUsed>,
    /// The metrics the policy keeps for later periods (`[history] keep`), this period's values.
    #[serde(skip_serializing_if = "MetricsUsed::is_empty")]
    pub kept: MetricsUsed,
    /// One line per rule step, then one per cap and rounding step: message ids with their
    /// arguments (shown in the member's language by [`crate::locale::Catalogs`]), or text
    /// as a script wrote it.
    pub explanation: Vec<Line>,
}

impl Decision {
    /// Canonical JSON: fields in declaration order, decimals as strings at fixed scale.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The decision for staff: the outcome, flags, why, the metrics read and kept, and what
    /// makes it replayable (member, version, hashes, engine). `why` is the explanation in the
    /// reader's locale ([`crate::locale::Catalogs::explanation`]); what a member is shown is
    /// [`crate::locale::MemberView`].
    pub fn to_text(&self, why: &[String]) -> String {
        let mut out = format!(
            "{} · {} · {} v{}\nreward: {} {}\npremium adjustment: {}%\n",
            self.member_id,
            self.period,
            self.policy_id,
            self.policy_version,
            self.reward,
            self.currency,
            self.premium_adjustment_percent
        );
        if let Some(t) = &self.tier {
            out.push_str(&format!("tier: {t}\n"));
        }
        if self.points != 0 {
            out.push_str(&format!("points: {}\n", self.points));
        }
        out.push_str(&format!(
            "target met: {}\n",
            if self.qualified { "yes" } else { "no" }
        ));
        if !self.flags.is_empty() {
            out.push_str(&format!("flags: {}\n", self.flags.join(", ")));
        }
        out.push_str("why:\n");
        for line in why {
            out.push_str(&format!("  - {line}\n"));
        }
        let by_period: Vec<(String, &MetricsUsed)> = self
            .metrics_used_by_period
            .iter()
            .map(|(p, m)| (format!("metrics read in {p}"), m))
            .collect();
        let labelled = [("metrics read".to_owned(), &self.metrics_used)]
            .into_iter()
            .chain(by_period)
            .chain([("kept".to_owned(), &self.kept)]);
        for (label, metrics) in labelled {
            if !metrics.is_empty() {
                let shown: Vec<String> = metrics
                    .0
                    .iter()
                    .map(|(name, value)| format!("{name} = {}", value.shown()))
                    .collect();
                out.push_str(&format!("{label}: {}\n", shown.join(", ")));
            }
        }
        out.push_str(&format!(
            "policy {} · inputs {} · engine {}\n",
            self.policy_hash, self.input_hash, self.engine_version
        ));
        out
    }
}

/// A decision made to be counted, not recorded: all a [`Decision`] holds but the hash of its
/// inputs, which is left empty (`input_hash` reads `""`). What a simulation decides millions
/// of member-periods with and keeps none of: the hash proves what a recorded decision read,
/// nothing in a simulation reads it, and computing it is a quarter of an evaluation's time.
/// It has no `Serialize`, and what records, pays or shows decisions takes a [`Decision`], so
/// it is passed to none of them (a copy of the decision inside, made through `Deref`, would
/// carry the empty hash: the differential tests do that, nothing else should).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unrecorded(pub(crate) Decision);

impl std::ops::Deref for Unrecorded {
    type Target = Decision;

    fn deref(&self) -> &Decision {
        &self.0
    }
}
