//! A model's values checked: every one out of its range named at once, by `section.field`
//! and with the bound it breaks.

use super::{FINGER_STICK_READINGS_PER_MONTH_MAX, GROUP_SIZE_MAX, Population, RANGES};
use rust_decimal::Decimal;

impl Population {
    /// Every value out of its range, by name.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.shares_and_positives(&mut out);
        self.bounded(&mut out);
        self.response_and_savings(&mut out);
        self.ranges_problems(&mut out);
        let readings = self.measuring.readings_per_measuring_month;
        if readings > FINGER_STICK_READINGS_PER_MONTH_MAX {
            out.push(format!(
                "measuring.readings_per_measuring_month = {readings} is more than {FINGER_STICK_READINGS_PER_MONTH_MAX}, a reading every hour of a 31-day month"
            ));
        }
        self.members_problems(&mut out);
        out
    }

    /// Shares outside 0 to 1, and values that must be above 0.
    fn shares_and_positives(&self, out: &mut Vec<String>) {
        let mut share = |name: &str, v: f64| {
            if !(0.0..=1.0).contains(&v) {
                out.push(format!("{name} = {v} is not a share between 0 and 1"));
            }
        };
        share("members.female_share", self.members.female_share);
        share("members.type2_share", self.members.type2_share);
        share(
            "members.type2_insulin_share",
            self.members.type2_insulin_share,
        );
        share("measuring.regular_share", self.measuring.regular_share);
        share(
            "measuring.regular_monthly_probability",
            self.measuring.regular_monthly_probability,
        );
        share(
            "measuring.irregular_monthly_probability",
            self.measuring.irregular_monthly_probability,
        );
        share("measuring.fasting_share", self.measuring.fasting_share);
        share("cgm.wearing_share", self.cgm.wearing_share);
        share("cgm.autocorrelation_1h", self.cgm.autocorrelation_1h);
        share(
            "glycaemia.within_member_cv",
            self.glycaemia.within_member_cv,
        );
        let mut positive = |name: &str, v: f64| {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!("{name} = {v} must be above 0"));
            }
        };
        positive(
            "measuring.readings_per_measuring_month",
            self.measuring.readings_per_measuring_month,
        );
        positive(
            "measuring.readings_rate_shape",
            self.measuring.readings_rate_shape,
        );
        positive(
            "glycaemia.fasting_median_mmol_l",
            self.glycaemia.fasting_median_mmol_l,
        );
        positive("glycaemia.fasting_log_sd", self.glycaemia.fasting_log_sd);
        positive("cgm.gap_hours_mean", self.cgm.gap_hours_mean);
    }

    /// Values outside the bounds a model can mean.
    fn bounded(&self, out: &mut Vec<String>) {
        for (name, v, lo, hi) in [
            (
                "glycaemia.post_meal_rise_mmol_l",
                self.glycaemia.post_meal_rise_mmol_l,
                0.0,
                10.0,
            ),
            (
                "glycaemia.yearly_drift_share",
                self.glycaemia.yearly_drift_share,
                -0.5,
                0.5,
            ),
            ("cgm.wear_share", self.cgm.wear_share, 0.01, 1.0),
            ("cgm.log_sd", self.cgm.log_sd, 0.01, 1.0),
            (
                "cgm.interval_minutes",
                f64::from(self.cgm.interval_minutes),
                1.0,
                60.0,
            ),
            (
                "response.measuring_uplift_share",
                self.response.measuring_uplift_share,
                -0.9,
                5.0,
            ),
            (
                "response.glucose_shift_share",
                self.response.glucose_shift_share,
                -0.5,
                0.5,
            ),
            (
                "response.reward_half_effect_share",
                self.response.reward_half_effect_share,
                0.001,
                10.0,
            ),
            (
                "response.readings_uplift_max_share",
                self.response.readings_uplift_max_share,
                0.0,
                5.0,
            ),
            (
                "response.hba1c_fall_max_points",
                self.response.hba1c_fall_max_points,
                -1.0,
                3.0,
            ),
            (
                "response.hba1c_effect_from_percent",
                self.response.hba1c_effect_from_percent,
                4.0,
                20.0,
            ),
            (
                "response.hba1c_full_effect_percent",
                self.response.hba1c_full_effect_percent,
                4.0,
                20.0,
            ),
            (
                "response.effect_ramp_months",
                f64::from(self.response.effect_ramp_months),
                0.0,
                120.0,
            ),
            (
                "response.later_years_effect_share",
                self.response.later_years_effect_share,
                0.0,
                1.0,
            ),
            (
                "response.loss_framing_multiplier",
                self.response.loss_framing_multiplier,
                1.0,
                10.0,
            ),
            ("lapse.yearly_share", self.lapse.yearly_share, 0.0, 1.0),
            ("enrolment.share", self.enrolment.share, 0.01, 1.0),
            (
                "enrolment.selection_hba1c_points",
                self.enrolment.selection_hba1c_points,
                0.0,
                2.0,
            ),
            (
                "lapse.unpaid_multiple",
                self.lapse.unpaid_multiple,
                0.0,
                100.0,
            ),
        ] {
            if !(lo..=hi).contains(&v) {
                out.push(format!("{name} = {v} is outside {lo} to {hi}"));
            }
        }
    }

    /// The response's effect bounds in order, a premium, and the savings' money and shares.
    fn response_and_savings(&self, out: &mut Vec<String>) {
        let r = &self.response;
        if r.hba1c_full_effect_percent < r.hba1c_effect_from_percent {
            out.push(format!(
                "response.hba1c_full_effect_percent = {} is below response.hba1c_effect_from_percent = {}",
                r.hba1c_full_effect_percent, r.hba1c_effect_from_percent
            ));
        }
        if r.annual_premium <= Decimal::ZERO {
            out.push(format!(
                "response.annual_premium = {} must be above 0",
                r.annual_premium
            ));
        }
        let sv = &self.savings;
        for (name, v, hi) in [
            (
                "savings.cost_per_hba1c_point_year",
                sv.cost_per_hba1c_point_year,
                Decimal::new(1_000_000_000, 0),
            ),
            ("savings.insurer_share", sv.insurer_share, Decimal::ONE),
            (
                "savings.first_year_realised_share",
                sv.first_year_realised_share,
                Decimal::ONE,
            ),
            (
                "savings.discount_rate_year",
                sv.discount_rate_year,
                Decimal::ONE,
            ),
        ] {
            if !(Decimal::ZERO..=hi).contains(&v) {
                out.push(format!("{name} = {v} is outside 0 to {hi}"));
            }
        }
    }

    /// Each varied assumption's own range: one the analysis varies, around its base value.
    fn ranges_problems(&self, out: &mut Vec<String>) {
        for key in self.ranges.keys() {
            if !RANGES.iter().any(|(k, _, _)| k == key) {
                out.push(format!(
                    "ranges.\"{key}\" is not an assumption the sensitivity analysis varies; it varies {}",
                    RANGES.map(|(k, _, _)| k).join(", ")
                ));
            }
        }
        for (key, _, _) in RANGES {
            let Some([low, high]) = self.range(key) else {
                continue;
            };
            let base = self.value(key).unwrap_or(f64::NAN);
            if !(low.is_finite() && high.is_finite() && low <= base && base <= high) {
                out.push(format!(
                    "{key} = {base} is outside its range {low} to {high} (ranges.\"{key}\")"
                ));
            }
        }
    }

    /// Members' attributes, families, age bands and regions.
    fn members_problems(&self, out: &mut Vec<String>) {
        if let Err(why) =
            incentive_engine::policy::attributes::check_attributes(&self.members.attributes)
        {
            out.push(format!("members.attributes: {why}"));
        }
        if let Some(g) = &self.members.groups {
            if !(1..=GROUP_SIZE_MAX).contains(&g.size) {
                out.push(format!(
                    "members.groups.size = {} must be 1 to {GROUP_SIZE_MAX} members a family",
                    g.size
                ));
            }
            if !incentive_engine::policy::explanation::is_identifier(&g.attribute) {
                out.push(format!(
                    "members.groups.attribute `{}` is not an attribute name",
                    incentive_engine::text::excerpt(&g.attribute)
                ));
            }
        }
        if self.members.age_bands.is_empty() {
            out.push("members.age_bands is empty".into());
        }
        for (i, b) in self.members.age_bands.iter().enumerate() {
            if b.from_years > b.to_years
                || b.to_years > 130
                || !(b.weight.is_finite() && b.weight > 0.0)
            {
                out.push(format!(
                    "members.age_bands[{i}]: {}–{} years with weight {} (ages 0–130, from ≤ to, weight above 0)",
                    b.from_years, b.to_years, b.weight
                ));
            }
        }
        if self.members.regions.is_empty() {
            out.push("members.regions is empty".into());
        }
        for (i, r) in self.members.regions.iter().enumerate() {
            if r.name.trim().is_empty() || !(r.weight.is_finite() && r.weight > 0.0) {
                out.push(format!(
                    "members.regions[{i}]: `{}` with weight {} (a name, weight above 0)",
                    r.name, r.weight
                ));
            }
        }
    }
}
