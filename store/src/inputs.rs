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

/// The member's data of [`StoredInputs`], the part its data hash covers.
#[derive(Serialize)]
struct Data<'a> {
    member: &'a MemberProfile,
    readings: &'a [StoredReading],
    labs: &'a [LabResult],
}

impl StoredInputs {
    /// A hash of the member's data — profile, readings and labs, not the history: what decides
    /// whether asking again for a paid period is a true-up (the data changed) or a repeat.
    pub fn data_hash(&self) -> String {
        sha256_hex(&self.data_json())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The member's data serialised, and its [`Self::data_hash`]: the bytes the stored inputs
    /// begin with ([`Self::to_json_from`]), so a payout serialises its readings once.
    pub fn hashed_data(&self) -> (Vec<u8>, String) {
        let data = self.data_json();
        let data_hash = sha256_hex(&data);
        (data, data_hash)
    }

    /// [`Self::to_json`] from [`Self::hashed_data`]'s bytes, the history only added now: a
    /// payout that turns out already decided never serialises it.
    ///
    /// Serde writes a struct's fields in order with no space between them, so
    /// `{"member":…,"labs":[…]}` with its closing brace replaced by `,"history":…}` is the
    /// whole. Serialising a payout's ~20 readings twice was a tenth of deciding a group
    /// (BENCHMARKS.md §4); `stored_inputs_tests` holds the two ways to the same bytes.
    pub fn to_json_from(&self, mut data: Vec<u8>) -> String {
        let history = serde_json::to_vec(&self.history).unwrap_or_default();
        if data.pop() != Some(b'}') || history.is_empty() {
            // Not the shape described above (it cannot be): the long way, the same bytes.
            return self.to_json();
        }
        data.reserve(history.len() + 12);
        data.extend_from_slice(b",\"history\":");
        data.extend_from_slice(&history);
        data.push(b'}');
        String::from_utf8(data).unwrap_or_default()
    }

    fn data_json(&self) -> Vec<u8> {
        serde_json::to_vec(&Data {
            member: &self.member,
            readings: &self.readings,
            labs: &self.labs,
        })
        .unwrap_or_default()
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

#[cfg(test)]
mod stored_inputs_tests {
    use super::*;

    /// Stored inputs with every optional part present and absent somewhere: a flagged reading
    /// without a value, a profile with attributes and one without, labs, prior outcomes with
    /// kept metrics, and the caps' history both set and unset.
    const SHAPES: [&str; 2] = [
        r#"{"member":{"id":"m-1","age":61,"sex":"F","region":"CN-44","diabetes_type":"t2","insulin":true,"enrolled_on":"2025-03-01","attributes":{"family":"f-7","tenure_years":3}},"readings":[{"t":1767222000000,"o":28800,"v":95.39999999999999,"c":"fasting","s":"smbg"},{"t":1767232800000,"o":28800,"v":null,"f":"LO","c":"post_meal","s":"cgm"}],"labs":[{"time":"2025-12-01T09:00:00+08:00","hba1c":"6.9"}],"history":{"outcomes":[{"period":"2025-12","reward":"20.00","premium_adjustment_percent":"-1.5","tier":"gold","points":12,"qualified":true,"metrics":{"tir_percent":"71.5"}}],"premium_loading_percent":"0","pool_paid":"1200.50","group_paid_this_year":"40"}}"#,
        r#"{"member":{"id":"m-2","age":null,"sex":null,"region":null,"diabetes_type":null,"insulin":null,"enrolled_on":null},"readings":[],"labs":[],"history":{"outcomes":[],"premium_loading_percent":"0","pool_paid":null}}"#,
    ];

    #[test]
    fn the_stored_inputs_built_from_the_data_hashs_bytes_are_the_stored_inputs_serialised_whole() {
        for shape in SHAPES {
            let inputs = match StoredInputs::from_json(shape) {
                Ok(i) => i,
                Err(e) => panic!("{e}: {shape}"),
            };
            let (data, data_hash) = inputs.hashed_data();
            let json = inputs.to_json_from(data);
            assert_eq!(json, inputs.to_json());
            assert_eq!(json, shape, "the literal is written as serde writes it");
            assert_eq!(data_hash, inputs.data_hash());
            // The hash covers the member's data and nothing of the history.
            let data_end = json.find(r#","history":"#).unwrap_or_default();
            let data = format!("{}}}", json.get(..data_end).unwrap_or_default());
            assert_eq!(data_hash, sha256_hex(data.as_bytes()));
        }
    }
}
