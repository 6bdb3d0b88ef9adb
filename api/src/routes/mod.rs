//! One module per resource.

pub mod approvals;
pub mod audit;
pub mod caller;
pub mod device_exports;
pub mod evaluations;
pub mod health;
pub mod history_impact;
pub mod ledger;
pub mod member_text;
pub mod members;
pub mod payouts;
pub mod policies;
pub mod settings;
pub mod simulations;
pub mod uploads;
pub mod versions_diff;
