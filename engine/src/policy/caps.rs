//! What the engine does to a script's decision before it is paid: the reward rounded and held
//! within the plan's caps (per period, per year, the member's group, the pool), the premium
//! adjustment held within its bounds and the member's loading within its floor and cap — each
//! step that changes an amount saying so in the explanation. Scripts never apply caps.

use super::evaluate::{EvaluationError, Policy};
use super::explanation::{Line, Message};
use super::manifest::{CapYear, WhenShort};
use rust_decimal::Decimal;

/// A limit on what is left of a cap: its messages when it cuts and when it refuses, what is
/// left, and what the message says of the cap.
type Limit = ([&'static str; 2], Decimal, [(&'static str, Decimal); 2]);

impl Policy {
    /// Rounds the reward, then holds it within each cap (caps are whole minor units, so the
    /// result never exceeds any of them), and says what each step did: an engine message with
    /// the amounts, shown in the member's language (engine/locales/).
    pub(super) fn apply_caps(
        &self,
        reward: Decimal,
        history: &super::inputs::HistorySummary,
        why: &mut Vec<Line>,
    ) -> Result<Decimal, EvaluationError> {
        let m = &self.manifest;
        let cur = &m.currency;
        let rounding = &m.rounding;
        let say = |why: &mut Vec<Line>, id: &'static str, args: &[(&'static str, Decimal)]| {
            let args: Vec<(&'static str, String)> =
                args.iter().map(|(k, v)| (*k, v.to_string())).collect();
            why.push(Line::Message(Message::engine(id, &args)));
        };
        let mut amount = rounding.money(reward);
        if amount != reward {
            why.push(Line::Message(Message::engine(
                "engine-rounded",
                &[
                    ("given", reward.to_string()),
                    ("paid", amount.to_string()),
                    ("currency", cur.clone()),
                    ("mode", rounding.mode.name().to_owned()),
                    ("unit", rounding.minor_unit.to_string()),
                ],
            )));
        }
        if let Some(unit) = rounding.reward_unit
            && !(amount % unit).is_zero()
        {
            return Err(self.bad(format!(
                "gives a reward of {amount} {cur}, not a whole number of the plan's {unit} {cur} units ([rounding] reward_unit)"
            )));
        }
        if let Some(cap) = &m.caps.per_period
            && amount > cap.amount
        {
            say(
                why,
                "engine-capped-period",
                &[("paid", cap.amount), ("cap", cap.amount), ("given", amount)],
            );
            amount = cap.amount;
        }
        amount = self.hold_within_what_is_left(amount, history, why);
        // A cap may leave part of a unit: a voucher is paid whole or not at all.
        if let Some(unit) = rounding.reward_unit {
            let mut whole = (amount / unit).floor() * unit;
            whole.rescale(rounding.places());
            if whole != amount {
                say(
                    why,
                    "engine-whole-units",
                    &[("paid", whole), ("unit", unit), ("left", amount)],
                );
                amount = whole;
            }
        }
        // INVARIANT: `amount` is a whole number of minor units here; rescale only fixes how it
        // is written (30 → 30.00), so equal rewards serialise to equal bytes.
        amount.rescale(rounding.places());
        Ok(amount)
    }

    /// Holds the reward within what is left of the member's yearly cap, their family's and the
    /// pool, in that order: under `when_short = "refuse"` a reward that does not fit one is not
    /// paid at all. Each limit is rounded down to whole minor units.
    fn hold_within_what_is_left(
        &self,
        mut amount: Decimal,
        history: &super::inputs::HistorySummary,
        why: &mut Vec<Line>,
    ) -> Decimal {
        let m = &self.manifest;
        let refuse = m.caps.when_short == WhenShort::Refuse;
        let mut limits: Vec<Limit> = Vec::new();
        if let Some(cap) = &m.caps.per_year {
            let ids = match m.caps.year {
                CapYear::Calendar => ["engine-capped-year", "engine-refused-year"],
                CapYear::Enrolment => ["engine-capped-policy-year", "engine-refused-policy-year"],
            };
            // Saturating: the history is data, and a sum of it may be as large as a decimal.
            let left = cap.amount.saturating_sub(history.payouts_this_year);
            let said = [("cap", cap.amount), ("earlier", history.payouts_this_year)];
            limits.push((ids, left, said));
        }
        if let (Some(group), Some(earlier)) = (&m.caps.group, history.group_paid_this_year) {
            let left = group.per_year.amount.saturating_sub(earlier);
            let said = [("cap", group.per_year.amount), ("earlier", earlier)];
            limits.push((["engine-capped-group", "engine-refused-group"], left, said));
        }
        if let (Some(budget), Some(paid_before)) = (m.caps.pool_budget, history.pool_paid) {
            let left = budget.saturating_sub(paid_before).max(Decimal::ZERO);
            let said = [("pool", budget), ("left", left)];
            limits.push((["engine-capped-pool", "engine-refused-pool"], left, said));
        }
        for ([cut, refused], left, said) in limits {
            let fits = m.rounding.money_down(left.max(Decimal::ZERO));
            if amount <= fits {
                continue;
            }
            let paid = if refuse { Decimal::ZERO } else { fits };
            let mut args: Vec<(&'static str, String)> =
                vec![("paid", paid.to_string()), ("given", amount.to_string())];
            args.extend(said.iter().map(|(k, v)| (*k, v.to_string())));
            why.push(Line::Message(Message::engine(
                if refuse { refused } else { cut },
                &args,
            )));
            amount = paid;
        }
        amount
    }

    /// Holds a premium adjustment within the per-decision bounds and keeps the member's total
    /// loading within its floor and cap.
    pub(super) fn apply_premium_limits(
        &self,
        adjustment: Decimal,
        loading: Decimal,
        why: &mut Vec<Line>,
    ) -> Decimal {
        let say = |why: &mut Vec<Line>, id: &'static str, args: &[(&'static str, Decimal)]| {
            let args: Vec<(&'static str, String)> =
                args.iter().map(|(k, v)| (*k, v.to_string())).collect();
            why.push(Line::Message(Message::engine(id, &args)));
        };
        let limits = &self.manifest.premium;
        let places = self.manifest.rounding.premium_percent_places;
        let mut adj =
            adjustment.round_dp_with_strategy(places, self.manifest.rounding.mode.strategy());
        if adj != adjustment {
            say(
                why,
                "engine-premium-rounded",
                &[("given", adjustment), ("adjusted", adj)],
            );
        }
        if let Some(lo) = limits.adjustment_min_percent
            && adj < lo
        {
            say(
                why,
                "engine-premium-limited",
                &[("limit", lo), ("given", adj)],
            );
            adj = lo;
        }
        if let Some(hi) = limits.adjustment_max_percent
            && adj > hi
        {
            say(
                why,
                "engine-premium-limited",
                &[("limit", hi), ("given", adj)],
            );
            adj = hi;
        }
        // Saturating: the loading comes with the history and the adjustment from the script,
        // either as large as a decimal holds.
        let after = loading.saturating_add(adj);
        if let Some(floor) = limits.loading_floor_percent
            && after < floor
        {
            let new = floor.saturating_sub(loading).min(Decimal::ZERO).max(adj);
            say(
                why,
                "engine-loading-floor",
                &[
                    ("floor", floor),
                    ("loading", loading),
                    ("given", adj),
                    ("adjusted", new),
                ],
            );
            adj = new;
        }
        let after = loading.saturating_add(adj);
        if let Some(cap) = limits.loading_cap_percent
            && after > cap
        {
            let new = cap.saturating_sub(loading).max(Decimal::ZERO).min(adj);
            say(
                why,
                "engine-loading-cap",
                &[
                    ("cap", cap),
                    ("loading", loading),
                    ("given", adj),
                    ("adjusted", new),
                ],
            );
            adj = new;
        }
        let mut out = adj;
        out.rescale(places);
        out
    }
}
