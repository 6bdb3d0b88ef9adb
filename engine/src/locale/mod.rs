//! Member text in the member's language. A decision's explanation holds message ids with their
//! arguments (policy::explanation); the words come from Project Fluent catalogs when a decision
//! is shown: the engine's own (its cap, rounding and premium lines and the labels of the member
//! view, in en and zh-CN, in `engine/locales/`) and the package's `locales/<tag>.ftl` (the
//! script's reasons, and the engine's lines in the insurer's own wording where it gives them).
//! Catalogs are not part of a policy's content hash: a corrected translation changes what a
//! member reads, never a decision's bytes.

mod catalogs;
mod numbers;
mod view;

pub use catalogs::{Catalogs, ENGINE_LOCALES, ENGINE_MESSAGES, STAFF_ONLY_MESSAGES};
pub use view::MemberView;
