//! One module per resource.

pub mod health;
pub mod ledger;
pub mod members;
pub mod payouts;
