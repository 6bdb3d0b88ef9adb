//! Laboratory results: HbA1c, the outcome most plans are ultimately judged on.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why an HbA1c value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Hba1cError {
    #[error("HbA1c {0}% is outside the plausible 3.0–20.0% (NGSP)")]
    Implausible(Decimal),
}

/// HbA1c in percent (NGSP/DCCT units), exact as the laboratory reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Hba1c(Decimal);

impl Hba1c {
    pub fn from_percent(percent: Decimal) -> Result<Self, Hba1cError> {
        if percent < Decimal::new(30, 1) || percent > Decimal::new(200, 1) {
            return Err(Hba1cError::Implausible(percent));
        }
        Ok(Self(percent))
    }

    pub fn percent(self) -> Decimal {
        self.0
    }

    /// An HbA1c in IFCC units (mmol/mol), as most of the world's laboratories report it, in
    /// NGSP percent by the IFCC–NGSP master equation (Hoelzel et al., Clin Chem
    /// 2004;50:166–174): NGSP = 0.09148 × IFCC + 2.152, rounded to the one decimal NGSP values
    /// are reported to (48 mmol/mol is 6.5 %, 53 is 7.0 %).
    pub fn from_ifcc_mmol_mol(mmol_mol: Decimal) -> Result<Self, Hba1cError> {
        let percent = mmol_mol
            .checked_mul(Decimal::new(9148, 5))
            .and_then(|p| p.checked_add(Decimal::new(2152, 3)))
            .ok_or(Hba1cError::Implausible(mmol_mol))?;
        Self::from_percent(
            percent.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }
}

impl TryFrom<Decimal> for Hba1c {
    type Error = Hba1cError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::from_percent(value)
    }
}

impl From<Hba1c> for Decimal {
    fn from(value: Hba1c) -> Self {
        value.0
    }
}

/// One HbA1c result and when the sample was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabResult {
    pub time: DateTime<FixedOffset>,
    pub hba1c: Hba1c,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifcc_values_are_the_ngsp_percentages_of_the_master_equation() {
        for (ifcc, ngsp) in [(48, 65), (53, 70), (64, 80), (75, 90), (31, 50)] {
            assert_eq!(
                Hba1c::from_ifcc_mmol_mol(Decimal::from(ifcc)).map(Hba1c::percent),
                Ok(Decimal::new(ngsp, 1)),
                "{ifcc} mmol/mol"
            );
        }
        assert!(Hba1c::from_ifcc_mmol_mol(Decimal::from(400)).is_err());
    }

    #[test]
    fn hba1c_outside_the_plausible_range_is_refused() {
        assert!(Hba1c::from_percent(Decimal::new(69, 1)).is_ok());
        assert!(Hba1c::from_percent(Decimal::new(29, 1)).is_err());
        assert!(Hba1c::from_percent(Decimal::new(201, 1)).is_err());
    }
}
