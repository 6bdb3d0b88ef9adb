//! A member's readings stored column by column, in one canonical order.
//!
//! Columns (not a `Vec<Reading>`) because every metric scans one or two of them: the mean reads
//! only the values, the active percent only the times. A reading costs 22 bytes here.
//!
//! INVARIANT: readings are sorted by (UTC time, source) with no two sharing both. Every metric
//! is computed in this order, so results do not depend on the order readings arrived in, and
//! floating-point sums come out the same bytes every time.

use crate::glucose::GlucoseValue;
use crate::period::Window;
use crate::reading::{Context, Reading, Source};
use chrono::{DateTime, FixedOffset, TimeZone};

/// A member's readings, sorted and de-duplicated. Build one with [`ReadingsBuilder`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readings {
    time_ms: Vec<i64>,
    offset_s: Vec<i32>,
    /// mg/dL; `LO` is −∞ and `HI` is +∞ (see [`GlucoseValue::encode`]). Never NaN.
    mg_dl: Vec<f64>,
    context: Vec<Context>,
    source: Vec<Source>,
}

impl Readings {
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// UTC milliseconds since the Unix epoch, ascending.
    pub fn times_ms(&self) -> &[i64] {
        &self.time_ms
    }

    /// The UTC offset (seconds east) each reading was taken with.
    pub fn offsets_s(&self) -> &[i32] {
        &self.offset_s
    }

    /// Values in mg/dL, with `LO` as −∞ and `HI` as +∞, so that `v < t` and `v > t` place the
    /// meter's flags below and above any threshold `t`. Use [`f64::is_finite`] to tell a
    /// number from a flag.
    pub fn values_mg_dl(&self) -> &[f64] {
        &self.mg_dl
    }

    pub fn contexts(&self) -> &[Context] {
        &self.context
    }

    pub fn sources(&self) -> &[Source] {
        &self.source
    }

    /// The `i`th reading in canonical order.
    pub fn get(&self, i: usize) -> Option<Reading> {
        Some(Reading {
            time: self.time(i)?,
            value: GlucoseValue::decode(*self.mg_dl.get(i)?),
            context: *self.context.get(i)?,
            source: *self.source.get(i)?,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Reading> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The time of reading `i` in the offset it was taken with.
    pub fn time(&self, i: usize) -> Option<DateTime<FixedOffset>> {
        let offset = FixedOffset::east_opt(*self.offset_s.get(i)?)?;
        offset.timestamp_millis_opt(*self.time_ms.get(i)?).single()
    }

    /// The readings inside `window`, in the same order. A binary search, then a copy of the
    /// slice: records are per member and period, so the copy is small.
    pub fn within(&self, window: &Window) -> Readings {
        let (start, end) = self.bounds_of(window);
        self.slice(start, end)
    }

    /// [`Readings::within`] for readings the caller no longer needs: when all of them are in
    /// the window (a file already cut to it), they are kept as they are, not copied.
    pub fn into_within(self, window: &Window) -> Readings {
        match self.bounds_of(window) {
            (0, end) if end == self.len() => self,
            (start, end) => self.slice(start, end),
        }
    }

    fn bounds_of(&self, window: &Window) -> (usize, usize) {
        let start = self
            .time_ms
            .partition_point(|&t| t < window.start.timestamp_millis());
        let end = self
            .time_ms
            .partition_point(|&t| t < window.end.timestamp_millis());
        (start, end)
    }

    fn slice(&self, start: usize, end: usize) -> Readings {
        let range = start..end.max(start);
        Readings {
            time_ms: self.time_ms.get(range.clone()).unwrap_or_default().to_vec(),
            offset_s: self
                .offset_s
                .get(range.clone())
                .unwrap_or_default()
                .to_vec(),
            mg_dl: self.mg_dl.get(range.clone()).unwrap_or_default().to_vec(),
            context: self.context.get(range.clone()).unwrap_or_default().to_vec(),
            source: self.source.get(range).unwrap_or_default().to_vec(),
        }
    }
}

/// Readings in the order they arrived; [`ReadingsBuilder::finish`] puts them in canonical order.
#[derive(Clone, Debug, Default)]
pub struct ReadingsBuilder {
    columns: Readings,
}

/// What [`ReadingsBuilder::finish`] gives back: the readings and how many duplicates it dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuiltReadings {
    pub readings: Readings,
    /// Readings that shared member, time and source with an earlier one; the first is kept.
    pub duplicates: usize,
}

impl ReadingsBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Self {
            columns: Readings {
                time_ms: Vec::with_capacity(n),
                offset_s: Vec::with_capacity(n),
                mg_dl: Vec::with_capacity(n),
                context: Vec::with_capacity(n),
                source: Vec::with_capacity(n),
            },
        }
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    pub fn push(&mut self, reading: Reading) {
        self.push_parts(
            reading.time.timestamp_millis(),
            reading.time.offset().local_minus_utc(),
            reading.value,
            reading.context,
            reading.source,
        );
    }

    /// [`ReadingsBuilder::push`] for a reading already in column form, so the CSV reader never
    /// builds a `DateTime` only to take it apart again.
    /// INVARIANT: `offset_s` is a valid `FixedOffset` (strictly within ±24 h).
    pub(crate) fn push_parts(
        &mut self,
        time_ms: i64,
        offset_s: i32,
        value: GlucoseValue,
        context: Context,
        source: Source,
    ) {
        debug_assert!(offset_s.abs() < 86_400);
        let c = &mut self.columns;
        c.time_ms.push(time_ms);
        c.offset_s.push(offset_s);
        c.mg_dl.push(value.encode());
        c.context.push(context);
        c.source.push(source);
    }

    /// Sorts by (time, source), keeping the first of readings that share both.
    pub fn finish(self) -> BuiltReadings {
        let c = self.columns;
        let key = |i: usize| (c.time_ms.get(i).copied(), c.source.get(i).copied());
        let strictly_sorted = (1..c.len()).all(|i| key(i - 1) < key(i));
        if strictly_sorted {
            // The common case for a meter's export: already in order, nothing to drop.
            return BuiltReadings {
                readings: c,
                duplicates: 0,
            };
        }
        let mut order: Vec<usize> = (0..c.len()).collect();
        // Stable, so among equal keys the one that arrived first comes first and is kept.
        order.sort_by_key(|&i| key(i));
        order.dedup_by_key(|i| key(*i));
        let duplicates = c.len() - order.len();
        let readings = Readings {
            time_ms: order
                .iter()
                .filter_map(|i| c.time_ms.get(*i).copied())
                .collect(),
            offset_s: order
                .iter()
                .filter_map(|i| c.offset_s.get(*i).copied())
                .collect(),
            mg_dl: order
                .iter()
                .filter_map(|i| c.mg_dl.get(*i).copied())
                .collect(),
            context: order
                .iter()
                .filter_map(|i| c.context.get(*i).copied())
                .collect(),
            source: order
                .iter()
                .filter_map(|i| c.source.get(*i).copied())
                .collect(),
        };
        BuiltReadings {
            readings,
            duplicates,
        }
    }
}

impl FromIterator<Reading> for BuiltReadings {
    fn from_iter<T: IntoIterator<Item = Reading>>(iter: T) -> Self {
        let mut builder = ReadingsBuilder::new();
        for r in iter {
            builder.push(r);
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glucose::Glucose;
    use crate::time::parse_timestamp;

    fn reading(time: &str, mg_dl: f64, source: Source) -> Reading {
        let Ok(time) = parse_timestamp(time) else {
            unreachable!("test timestamps are valid: {time}")
        };
        let Ok(g) = Glucose::from_mg_dl(mg_dl) else {
            unreachable!("test values are plausible: {mg_dl}")
        };
        Reading {
            time,
            value: GlucoseValue::Measured(g),
            context: Context::Unknown,
            source,
        }
    }

    #[test]
    fn readings_are_sorted_and_the_first_of_each_duplicate_is_kept() {
        let built: BuiltReadings = [
            reading("2026-03-01T09:00:00+08:00", 120.0, Source::Smbg),
            reading("2026-03-01T08:00:00+08:00", 100.0, Source::Smbg),
            reading("2026-03-01T09:00:00+08:00", 130.0, Source::Smbg),
            reading("2026-03-01T01:00:00Z", 140.0, Source::Cgm),
        ]
        .into_iter()
        .collect();
        assert_eq!(built.duplicates, 1);
        assert_eq!(built.readings.values_mg_dl(), &[100.0, 120.0, 140.0]);
    }

    #[test]
    fn the_same_instant_written_in_two_offsets_is_one_reading() {
        let built: BuiltReadings = [
            reading("2026-03-01T08:00:00+08:00", 100.0, Source::Smbg),
            reading("2026-03-01T00:00:00Z", 101.0, Source::Smbg),
        ]
        .into_iter()
        .collect();
        assert_eq!(built.duplicates, 1);
        assert_eq!(built.readings.values_mg_dl(), &[100.0]);
    }

    #[test]
    fn a_reading_round_trips_through_the_columns() {
        let r = reading("2026-03-01T08:00:00.250+08:00", 100.5, Source::Cgm);
        let built: BuiltReadings = [r].into_iter().collect();
        assert_eq!(built.readings.get(0), Some(r));
        assert_eq!(built.readings.get(1), None);
    }
}
