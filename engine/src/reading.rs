//! One glucose reading: when, what, in which context, from which kind of device.

use crate::glucose::GlucoseValue;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The device a reading came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Source {
    /// Self-monitoring of blood glucose: a finger-stick meter such as 糖大夫.
    Smbg,
    /// Continuous glucose monitoring: a sensor reading every few minutes.
    Cgm,
    /// The sender did not say.
    Unspecified,
}

impl Source {
    pub fn parse(text: &str) -> Result<Self, UnknownLabel> {
        match text.trim() {
            "smbg" => return Ok(Self::Smbg),
            "cgm" => return Ok(Self::Cgm),
            _ => {}
        }
        match text.trim().to_ascii_lowercase().as_str() {
            "smbg" => Ok(Self::Smbg),
            "cgm" => Ok(Self::Cgm),
            "" | "unspecified" => Ok(Self::Unspecified),
            _ => Err(UnknownLabel {
                what: "source",
                text: crate::text::excerpt(text),
                expected: "smbg, cgm",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smbg => "smbg",
            Self::Cgm => "cgm",
            Self::Unspecified => "unspecified",
        }
    }
}

/// When, relative to meals and sleep, a reading was taken. Finger-stick meters ask the patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Context {
    Fasting,
    PreMeal,
    /// Two hours after a meal.
    PostMeal,
    Bedtime,
    Random,
    Unknown,
}

impl Context {
    pub fn parse(text: &str) -> Result<Self, UnknownLabel> {
        // Exact spellings first: this runs once per row of a ten-million-row file.
        match text {
            "fasting" => return Ok(Self::Fasting),
            "pre_meal" => return Ok(Self::PreMeal),
            "post_meal" => return Ok(Self::PostMeal),
            "" => return Ok(Self::Unknown),
            _ => {}
        }
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "fasting" => Ok(Self::Fasting),
            "pre_meal" => Ok(Self::PreMeal),
            "post_meal" => Ok(Self::PostMeal),
            "bedtime" => Ok(Self::Bedtime),
            "random" => Ok(Self::Random),
            "" | "unknown" => Ok(Self::Unknown),
            _ => Err(UnknownLabel {
                what: "context",
                text: crate::text::excerpt(text),
                expected: "fasting, pre_meal, post_meal, bedtime, random",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fasting => "fasting",
            Self::PreMeal => "pre_meal",
            Self::PostMeal => "post_meal",
            Self::Bedtime => "bedtime",
            Self::Random => "random",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label outside its closed vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{text}` (expected one of: {expected})")]
pub struct UnknownLabel {
    pub what: &'static str,
    pub text: String,
    pub expected: &'static str,
}

/// One reading, as a value. [`crate::Readings`] stores many of them column by column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    pub time: DateTime<FixedOffset>,
    pub value: GlucoseValue,
    pub context: Context,
    pub source: Source,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_and_sources_parse_their_vocabulary_and_refuse_the_rest() {
        assert_eq!(Context::parse("Pre-Meal"), Ok(Context::PreMeal));
        assert_eq!(Context::parse(""), Ok(Context::Unknown));
        assert_eq!(Source::parse("CGM"), Ok(Source::Cgm));
        let err = Context::parse("after lunch").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "unknown context `after lunch` (expected one of: fasting, pre_meal, post_meal, bedtime, random)"
            )
        );
        assert!(Source::parse("pump").is_err());
    }
}
