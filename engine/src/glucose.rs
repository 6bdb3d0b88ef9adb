//! Glucose values with explicit units, converted to mg/dL once, at the edge.
//!
//! The engine works in mg/dL throughout. A value in mmol/L is multiplied by
//! [`MG_DL_PER_MMOL_L`] exactly once, when it is parsed, and never converted back except for
//! display; that is how the R package iglu and most CGM papers do it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// mg/dL per mmol/L. iglu's factor; the molar mass of glucose gives 18.016, but every
/// published consensus threshold (70, 180 mg/dL ≙ 3.9, 10.0 mmol/L) is stated with 18.
pub const MG_DL_PER_MMOL_L: f64 = 18.0;

/// The lowest numeric value a meter or sensor reports. Below it a meter shows `LO`.
pub const PLAUSIBLE_MG_DL_MIN: f64 = 20.0;
/// The highest numeric value a meter or sensor reports. Above it a meter shows `HI`.
pub const PLAUSIBLE_MG_DL_MAX: f64 = 600.0;

/// The unit a glucose value was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GlucoseUnit {
    #[serde(rename = "mg/dL")]
    MgDl,
    #[serde(rename = "mmol/L")]
    MmolL,
}

impl GlucoseUnit {
    /// Parses `mg/dL` or `mmol/L` (case-insensitive, with or without the slash).
    pub fn parse(text: &str) -> Result<Self, GlucoseError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mg/dl" | "mgdl" | "mg_dl" => Ok(Self::MgDl),
            "mmol/l" | "mmoll" | "mmol_l" | "mmol" => Ok(Self::MmolL),
            _ => Err(GlucoseError::UnknownUnit(crate::text::excerpt(text))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MgDl => "mg/dL",
            Self::MmolL => "mmol/L",
        }
    }

    /// How many mg/dL one of this unit is.
    pub fn mg_dl_factor(self) -> f64 {
        match self {
            Self::MgDl => 1.0,
            Self::MmolL => MG_DL_PER_MMOL_L,
        }
    }
}

impl fmt::Display for GlucoseUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a glucose value was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GlucoseError {
    #[error("`{0}` is not a glucose value (expected a number, `LO` or `HI`)")]
    NotANumber(String),
    #[error("glucose value `{0}` is not a finite number")]
    NotFinite(String),
    #[error("glucose value {value} {unit} is not positive")]
    NotPositive { value: f64, unit: GlucoseUnit },
    #[error(
        "glucose value {value} {unit}{} is outside the plausible {PLAUSIBLE_MG_DL_MIN}–{PLAUSIBLE_MG_DL_MAX} mg/dL; a meter reports such values as `LO` or `HI`",
        in_mg_dl(*unit, *mg_dl)
    )]
    Implausible {
        value: f64,
        unit: GlucoseUnit,
        mg_dl: f64,
    },
    #[error("unknown glucose unit `{0}` (expected `mg/dL` or `mmol/L`)")]
    UnknownUnit(String),
}

/// " (= N mg/dL)" after a value given in another unit, so the limit can be checked by eye.
fn in_mg_dl(unit: GlucoseUnit, mg_dl: f64) -> String {
    match unit {
        GlucoseUnit::MgDl => String::new(),
        GlucoseUnit::MmolL => format!(" (= {mg_dl} mg/dL)"),
    }
}

/// A measured glucose concentration in mg/dL: finite and within the plausible range.
///
/// The field is private so that every `Glucose` went through [`Glucose::new`].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Glucose(f64);

impl Glucose {
    /// A value in `unit`, converted to mg/dL once and checked for plausibility.
    pub fn new(value: f64, unit: GlucoseUnit) -> Result<Self, GlucoseError> {
        if !value.is_finite() {
            return Err(GlucoseError::NotFinite(value.to_string()));
        }
        if value <= 0.0 {
            return Err(GlucoseError::NotPositive { value, unit });
        }
        let mg_dl = value * unit.mg_dl_factor();
        if !(PLAUSIBLE_MG_DL_MIN..=PLAUSIBLE_MG_DL_MAX).contains(&mg_dl) {
            return Err(GlucoseError::Implausible { value, unit, mg_dl });
        }
        Ok(Self(mg_dl))
    }

    pub fn from_mg_dl(value: f64) -> Result<Self, GlucoseError> {
        Self::new(value, GlucoseUnit::MgDl)
    }

    pub fn from_mmol_l(value: f64) -> Result<Self, GlucoseError> {
        Self::new(value, GlucoseUnit::MmolL)
    }

    pub fn mg_dl(self) -> f64 {
        self.0
    }

    /// For display only: the engine never computes in mmol/L.
    pub fn mmol_l(self) -> f64 {
        self.0 / MG_DL_PER_MMOL_L
    }
}

/// mg/dL of an mmol/L value written as decimal text: the decimal product, then the nearest f64.
fn exact_mg_dl(mmol_l_text: &str) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    let mmol = rust_decimal::Decimal::from_str_exact(mmol_l_text).ok()?;
    mmol.checked_mul(rust_decimal::Decimal::from(18))
        .and_then(|d| d.to_f64())
}

/// What a meter reported: a number, or one of its out-of-range flags.
///
/// `LO` and `HI` are not numbers. They count as below and above every range threshold in the
/// percentage metrics, and are left out of the mean, SD and risk indices (see [`crate::metrics`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GlucoseValue {
    Measured(Glucose),
    /// The meter showed `LO`: below its measuring range (typically < 1.1 mmol/L).
    Low,
    /// The meter showed `HI`: above its measuring range (typically > 33.3 mmol/L).
    High,
}

impl GlucoseValue {
    /// Parses a number in `unit`, or the flags `LO` / `HI` (case-insensitive).
    pub fn parse(text: &str, unit: GlucoseUnit) -> Result<Self, GlucoseError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("lo") {
            return Ok(Self::Low);
        }
        if text.eq_ignore_ascii_case("hi") {
            return Ok(Self::High);
        }
        let value: f64 = text
            .parse()
            .map_err(|_| GlucoseError::NotANumber(crate::text::excerpt(text)))?;
        if !value.is_finite() {
            return Err(GlucoseError::NotFinite(crate::text::excerpt(text)));
        }
        let glucose = Glucose::new(value, unit)?;
        // A reading written in mmol/L is converted through its decimal text, the way a
        // policy's glucose terms are, so that 13.9 mmol/L read from a meter and 13.9 mmol/L in
        // policy.toml are the same mg/dL (an f64 product would give 250.20000000000002).
        if unit == GlucoseUnit::MmolL
            && let Some(mg_dl) = exact_mg_dl(text)
        {
            return Ok(Self::Measured(Glucose(mg_dl)));
        }
        Ok(Self::Measured(glucose))
    }

    /// The column encoding used by [`crate::Readings`]: mg/dL for a measured value,
    /// −∞ for `LO` and +∞ for `HI`, so that strict and inclusive threshold comparisons put the
    /// flags below or above every threshold without a branch.
    pub(crate) fn encode(self) -> f64 {
        match self {
            Self::Measured(g) => g.mg_dl(),
            Self::Low => f64::NEG_INFINITY,
            Self::High => f64::INFINITY,
        }
    }

    /// Inverse of [`GlucoseValue::encode`].
    pub(crate) fn decode(mg_dl: f64) -> Self {
        if mg_dl == f64::NEG_INFINITY {
            Self::Low
        } else if mg_dl == f64::INFINITY {
            Self::High
        } else {
            // INVARIANT: the column only holds values that passed `Glucose::new`.
            Self::Measured(Glucose(mg_dl))
        }
    }
}

impl fmt::Display for GlucoseValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Measured(g) => write!(f, "{} mg/dL", g.mg_dl()),
            Self::Low => f.write_str("LO"),
            Self::High => f.write_str("HI"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmol_is_converted_with_factor_18_exactly_once() {
        let g = Glucose::from_mmol_l(7.0).map(Glucose::mg_dl);
        assert_eq!(g, Ok(126.0));
        let round_trip = Glucose::from_mmol_l(5.5).map(Glucose::mmol_l);
        assert_eq!(round_trip, Ok(5.5));
    }

    #[test]
    fn a_reading_in_mmol_l_is_the_same_mg_dl_as_a_policy_term_written_alike() {
        // 13.9 × 18.0 in f64 is 250.20000000000002; a policy term 13.9 mmol/L is exactly 250.2.
        for (text, mg_dl) in [
            ("13.9", 250.2),
            ("11.1", 199.8),
            ("16.7", 300.6),
            ("4.4", 79.2),
            ("7.0", 126.0),
        ] {
            assert_eq!(
                GlucoseValue::parse(text, GlucoseUnit::MmolL),
                Ok(GlucoseValue::Measured(Glucose(mg_dl))),
                "{text}"
            );
        }
    }

    #[test]
    fn a_unit_is_parsed_in_either_spelling() {
        assert_eq!(GlucoseUnit::parse("mg/dL"), Ok(GlucoseUnit::MgDl));
        assert_eq!(GlucoseUnit::parse("MMOL/L"), Ok(GlucoseUnit::MmolL));
        assert!(matches!(
            GlucoseUnit::parse("g/L"),
            Err(GlucoseError::UnknownUnit(u)) if u == "g/L"
        ));
    }

    #[test]
    fn implausible_zero_negative_and_non_numbers_are_refused_with_reasons() {
        let cases: [(&str, &str); 6] = [
            ("0", "is not positive"),
            ("-5", "is not positive"),
            ("NaN", "not a finite number"),
            ("inf", "not a finite number"),
            ("700", "outside the plausible 20–600 mg/dL"),
            ("abc", "`abc` is not a glucose value"),
        ];
        for (text, expected) in cases {
            let err = GlucoseValue::parse(text, GlucoseUnit::MgDl)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expected), "{text}: {err}");
        }
        // 1.0 mmol/L is 18 mg/dL: implausible, a meter would show LO.
        let err = GlucoseValue::parse("1.0", GlucoseUnit::MmolL)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "glucose value 1 mmol/L (= 18 mg/dL) is outside the plausible 20–600 mg/dL; a meter reports such values as `LO` or `HI`"
            )
        );
    }

    #[test]
    fn meter_flags_are_kept_as_flags_and_encode_outside_every_threshold() {
        assert_eq!(
            GlucoseValue::parse("LO", GlucoseUnit::MmolL),
            Ok(GlucoseValue::Low)
        );
        assert_eq!(
            GlucoseValue::parse(" hi ", GlucoseUnit::MgDl),
            Ok(GlucoseValue::High)
        );
        assert!(GlucoseValue::Low.encode() < PLAUSIBLE_MG_DL_MIN);
        assert!(GlucoseValue::High.encode() > PLAUSIBLE_MG_DL_MAX);
        for v in [GlucoseValue::Low, GlucoseValue::High] {
            assert_eq!(GlucoseValue::decode(v.encode()), v);
        }
    }

    #[test]
    fn plausible_bounds_are_inclusive() {
        assert!(Glucose::from_mg_dl(20.0).is_ok());
        assert!(Glucose::from_mg_dl(600.0).is_ok());
        assert!(Glucose::from_mg_dl(19.99).is_err());
        assert!(Glucose::from_mg_dl(600.01).is_err());
    }
}
