//! What a decision read, kept beside it so that an auditor can replay it years later with the
//! stored policy version and get the same bytes — until the member's readings are erased.

use crate::error::StoreError;
use crate::ledger::sha256_hex;
use chrono::{DateTime, FixedOffset};
use incentive_engine::policy::{History, MemberProfile};
use incentive_engine::{
    Context, Glucose, GlucoseValue, LabResult, Readings, ReadingsBuilder, Source,
};
use serde::{Deserialize, Serialize};

/// One reading in stored form: exactly the engine's columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredReading {
    /// UTC milliseconds.
    pub t: i64,
    /// Offset east of UTC, seconds.
    pub o: i32,
    /// mg/dL, or `None` for the meter's `LO`/`HI` (then `f`).
    pub v: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<String>,
    pub c: String,
    pub s: String,
}

/// The inputs of one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredInputs {
    pub member: MemberProfile,
    pub readings: Vec<StoredReading>,
    pub labs: Vec<LabResult>,
    pub history: History,
}

impl StoredInputs {
    /// A hash of the member's data — profile, readings and labs, not the history: what decides
    /// whether asking again for a paid period is a true-up (the data changed) or a repeat.
    pub fn data_hash(&self) -> String {
        #[derive(Serialize)]
        struct Data<'a> {
            member: &'a MemberProfile,
            readings: &'a [StoredReading],
            labs: &'a [LabResult],
        }
        let bytes = serde_json::to_vec(&Data {
            member: &self.member,
            readings: &self.readings,
            labs: &self.labs,
        })
        .unwrap_or_default();
        sha256_hex(&bytes)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("stored decision inputs are unreadable: {e}")))
    }

    /// The readings as the engine takes them.
    pub fn readings(&self) -> Result<Readings, StoreError> {
        let mut b = ReadingsBuilder::with_capacity(self.readings.len());
        for r in &self.readings {
            b.push(to_engine(r)?);
        }
        Ok(b.finish().readings)
    }
}

pub(crate) fn to_engine(r: &StoredReading) -> Result<incentive_engine::Reading, StoreError> {
    let bad = |what: &str| StoreError::Corrupt(format!("a stored reading has a bad {what}"));
    let offset = FixedOffset::east_opt(r.o).ok_or_else(|| bad("UTC offset"))?;
    let time: DateTime<FixedOffset> = DateTime::from_timestamp_millis(r.t)
        .ok_or_else(|| bad("time"))?
        .with_timezone(&offset);
    let value = match (r.v, r.f.as_deref()) {
        (Some(v), None) => {
            GlucoseValue::Measured(Glucose::from_mg_dl(v).map_err(|_| bad("value"))?)
        }
        (None, Some("LO")) => GlucoseValue::Low,
        (None, Some("HI")) => GlucoseValue::High,
        _ => return Err(bad("value")),
    };
    Ok(incentive_engine::Reading {
        time,
        value,
        context: Context::parse(&r.c).map_err(|_| bad("context"))?,
        source: Source::parse(&r.s).map_err(|_| bad("source"))?,
    })
}

/// A reading as it is written to `readings`: [`StoredReading`]'s columns (read back with
/// [`to_engine`]) and its member, borrowed. A bulk upload writes a million of these; owning their three labels cost three
/// allocations a reading, more than parsing the upload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ReadingRow<'a> {
    pub member: &'a str,
    pub t: i64,
    pub o: i32,
    pub v: Option<f64>,
    pub f: Option<&'static str>,
    pub c: &'static str,
    pub s: &'static str,
}

impl<'a> ReadingRow<'a> {
    pub(crate) fn of(member: &'a str, r: &incentive_engine::Reading) -> Self {
        let (v, f) = match r.value {
            GlucoseValue::Measured(g) => (Some(g.mg_dl()), None),
            GlucoseValue::Low => (None, Some("LO")),
            GlucoseValue::High => (None, Some("HI")),
        };
        Self {
            member,
            t: r.time.timestamp_millis(),
            o: r.time.offset().local_minus_utc(),
            v,
            f,
            c: r.context.as_str(),
            s: r.source.as_str(),
        }
    }
}
