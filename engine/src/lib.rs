//! The pure core of `incentive`: glucose readings, a member's record for a period, and the
//! glucose-control metrics that policies are written against.
//!
//! Nothing here performs I/O, reads a clock or spawns a task. Callers hand the engine values
//! (or a [`std::io::Read`] they opened themselves, for [`ingest`]) and get values back, so the
//! same function decides a payout in the API, in the CLI and in every simulated member-period.
//!
//! ```
//! use incentive_engine::ingest::{CsvOptions, read_readings_csv};
//! use incentive_engine::{Period, Record, compute_metrics};
//!
//! let csv = "member_id,time,glucose_mmol_l,context\n\
//!            M1,2026-03-01T07:05:00+08:00,6.1,fasting\n\
//!            M1,2026-03-02T07:10:00+08:00,7.4,fasting\n\
//!            M1,2026-04-01T07:00:00+08:00,5.2,fasting\n";
//! let loaded = read_readings_csv(csv.as_bytes(), &CsvOptions::default(), &mut |_| {})?;
//! let (member, readings) = loaded.members.into_iter().next().ok_or("no member")?;
//!
//! // March in the policy's zone: the April reading is left out.
//! let march = Period::parse("2026-03")?;
//! let record = Record::for_period(member, &readings, vec![], march, chrono_tz::Asia::Shanghai)?;
//! let metrics = compute_metrics(&record);
//! assert_eq!(metrics.n_readings, 2);
//! assert_eq!(metrics.fasting_in_target_percent, Some(50.0)); // 7.4 is above 7.0 mmol/L
//! assert_eq!(metrics.days_with_readings, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod exports;
pub mod glucose;
pub mod ingest;
pub mod lab;
pub mod likely_duplicates;
pub mod locale;
pub mod member;
pub mod metrics;
pub mod period;
pub mod reading;
pub mod readings;
pub mod record;
pub mod text;
pub mod time;

pub use glucose::{Glucose, GlucoseError, GlucoseUnit, GlucoseValue, MG_DL_PER_MMOL_L};
pub use lab::{Hba1c, LabResult};
pub use member::MemberId;
pub use metrics::{Metrics, compute_metrics};
pub use period::{Period, PeriodKind, Window};
pub use reading::{Context, Reading, Source};
pub use readings::{BuiltReadings, Readings, ReadingsBuilder};
pub use record::{DayBoundary, Record};
pub mod policy;
