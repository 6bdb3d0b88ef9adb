//! Where each assumption's default comes from, by `section.field`.

/// Where each assumption's default comes from, written next to the results (ASOP 56 asks
/// that every assumption and its source be disclosed). Keys are `section.field`.
pub const SOURCES: [(&str, &str); 45] = [
    (
        "members.age_bands",
        "judgement: adults with diabetes in a county programme, mostly 45 and over",
    ),
    (
        "members.female_share",
        "judgement: near parity, slightly more men among Chinese adults with diabetes",
    ),
    (
        "members.regions",
        "Guizhou pilot: 1,500 of ~10,000 patients in Suiyang (seed 000)",
    ),
    (
        "members.type2_share",
        "judgement: type 2 is 90–95 % of adult diabetes in China",
    ),
    (
        "members.type2_insulin_share",
        "judgement: a minority of type 2 patients on insulin",
    ),
    (
        "members.attributes",
        "the plan's own member data, as the actuary states it: every member carries these values",
    ),
    (
        "members.groups",
        "the plan's own design: the family size the actuary assumes for a cap a family shares",
    ),
    (
        "measuring.regular_share",
        "calibrated: 69 % kept measuring every month in Suiyang (seed 000)",
    ),
    (
        "measuring.regular_monthly_probability",
        "calibrated with regular_share to the 69 % above",
    ),
    (
        "measuring.irregular_monthly_probability",
        "judgement: occasional measurers",
    ),
    (
        "measuring.readings_per_measuring_month",
        "calibrated: 6.5 readings a member a month province-wide (seed 000)",
    ),
    (
        "measuring.readings_rate_shape",
        "calibrated: 28.5 % met the national frequency standard, read as 8 a month (seed 000)",
    ),
    (
        "measuring.fasting_share",
        "calibrated with the post-meal rise to 56 % of readings in target (seed 000)",
    ),
    (
        "glycaemia.fasting_median_mmol_l",
        "calibrated: 82.89 % hyperglycaemic in the first month, Suiyang (seed 000)",
    ),
    (
        "glycaemia.fasting_log_sd",
        "calibrated with the median to the 82.89 % above",
    ),
    (
        "glycaemia.within_member_cv",
        "judgement: finger-stick day-to-day variability",
    ),
    (
        "glycaemia.post_meal_rise_mmol_l",
        "calibrated: 56 % of readings in target (seed 000)",
    ),
    (
        "glycaemia.yearly_drift_share",
        "calibrated: hyperglycaemia 82.89 % → 54.55 % in a year (seed 000)",
    ),
    (
        "cgm.wearing_share",
        "judgement: the pilot used finger-stick meters; set 1 to price a CGM programme",
    ),
    (
        "cgm.wear_share",
        "judgement: real-world wear is mostly 80–90 %; the consensus asks 70 % to judge a trace",
    ),
    (
        "cgm.gap_hours_mean",
        "judgement: sensor changes with warm-up, and lost signal, a few hours at a time",
    ),
    (
        "cgm.interval_minutes",
        "device: Dexcom-type sensors read every 5 minutes (Libre-type: 15)",
    ),
    (
        "cgm.log_sd",
        "judgement: CV of 20–30 % typical of type 2 on CGM; the consensus target is ≤ 36 %",
    ),
    (
        "cgm.autocorrelation_1h",
        "simglucose (UVA/Padova) adult trace: lag-1h autocorrelation 0.31 of log glucose",
    ),
    (
        "response.model",
        "judgement: members answer to what a plan pays (reward); fixed reproduces the earlier model",
    ),
    (
        "response.measuring_uplift_share",
        "judgement, no source (fixed model only): how much any plan raises measuring",
    ),
    (
        "response.glucose_shift_share",
        "judgement, no source (fixed model only): how much any plan lowers mean glucose",
    ),
    (
        "response.annual_premium",
        "the example plans' premium: 100 CNY a month (tangdaifu-smbg's terms)",
    ),
    (
        "response.reward_half_effect_share",
        "assumption (P3, range 5–25 %): saturation at low amounts in Jones, Molitor & Reif 2019 (QJE) and Sen et al. 2014; no source states it as a share of premium",
    ),
    (
        "response.readings_uplift_max_share",
        "Sen et al. 2014 (J Gen Intern Med): adherent days 58 % → 77–81 % with pay for testing; Wong et al. 2017 (P7, range 15–50 %)",
    ),
    (
        "response.hba1c_fall_max_points",
        "RCTs of glucose-target rewards against control: Long 2012 −0.45 (NS), Guo 2014 (China) −0.35 to −0.40, Wong 2017 0, Prigozin 2026 −0.7 (P1, range 0–0.7)",
    ),
    (
        "response.hba1c_effect_from_percent",
        "SMBG meta-analysis (2009): the effect only with baseline HbA1c ≥ 8 % (P2)",
    ),
    (
        "response.hba1c_full_effect_percent",
        "SMBG meta-analysis (2009): the effect only with baseline HbA1c ≥ 8 % (P2)",
    ),
    (
        "response.effect_ramp_months",
        "the trials read HbA1c at 3–6 months (Long 2012, Guo 2014): full by month 6 (P1)",
    ),
    (
        "response.later_years_effect_share",
        "Misra-Hebert 2016: the first year's effect largest, later cohorts not significant; Zhang 2024 (P9, range 50–100 %)",
    ),
    (
        "response.loss_framing_multiplier",
        "Patel et al. 2016 (Ann Intern Med): a loss-framed incentive raised goal days +16 points over control where the equal gain gave +5 (NS); Wong 2017 loss-framed yet null on HbA1c (P5, range 1–3); applied to the stake, not the largest effect, so a mixed plan has one stake",
    ),
    (
        "savings.cost_per_hba1c_point_year",
        "+4.4 % diabetes cost a point (J Med Econ 2011, US) × ~14,600 CNY a year (Liu, Zhang & Chen 2023) (P13, range 200–1,500); a transfer of a US elasticity",
    ),
    (
        "savings.insurer_share",
        "assumption, no source (P15, range 5–50 %): basic medical insurance pays most",
    ),
    (
        "savings.first_year_realised_share",
        "Wagner et al. 2001 (JAMA): utilisation lower from the year after improvement; Bansal 2018 (P14, range 0–75 %)",
    ),
    (
        "enrolment.share",
        "1 by default, as the calibration assumes; P18: 10–60 % of those eligible enrol, base 30 % (Illinois ~56 %, Vitality 62 %, Misra-Hebert 7–50 %)",
    ),
    (
        "enrolment.selection_hba1c_points",
        "P19, range 0–0.6, base 0.3: direction from Jones, Molitor & Reif 2019 (healthier people enrol); the size is an assumption",
    ),
    (
        "lapse.yearly_share",
        "no source for Chinese health insurance (P22, range 10–35 %, base 20 %); 0 by default, as the calibration assumes",
    ),
    (
        "lapse.unpaid_multiple",
        "assumption, no source (P22): members who earn nothing leave more often",
    ),
    (
        "uncertainty.assumptions",
        "the actuary's choice: held gives process variance alone; drawn adds what is not known about the varied assumptions (ASOP 56)",
    ),
    (
        "savings.discount_rate_year",
        "China Guidelines for Pharmacoeconomic Evaluations 2020: 5 % (P17, range 3–8 %)",
    ),
];

/// The source of an assumption's default, by `section.field`.
pub fn source(key: &str) -> &'static str {
    SOURCES
        .iter()
        .find(|(k, _)| *k == key || (k.ends_with(".*") && key.starts_with(k.trim_end_matches('*'))))
        .map_or("", |(_, s)| s)
}
