//! The pure core of `incentive`: glucose readings, a member's record for a period, and the
//! glucose-control metrics that policies are written against.
//!
//! Nothing here performs I/O, reads a clock or spawns a task. Callers hand the engine values
//! (or a [`std::io::Read`] they opened themselves, for [`ingest`]) and get values back, so the
//! same function decides a payout in the API, in the CLI and in every simulated member-period.

pub mod glucose;
pub mod ingest;
pub mod lab;
pub mod member;
pub mod metrics;
pub mod period;
pub mod reading;
pub mod readings;
pub mod record;
pub mod time;

pub use glucose::{Glucose, GlucoseError, GlucoseUnit, GlucoseValue, MG_DL_PER_MMOL_L};
pub use lab::{Hba1c, LabResult};
pub use member::MemberId;
pub use metrics::{Metrics, compute_metrics};
pub use period::{Period, PeriodKind, Window};
pub use reading::{Context, Reading, Source};
pub use readings::{BuiltReadings, Readings, ReadingsBuilder};
pub use record::{DayBoundary, Record};
