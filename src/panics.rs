//! What a panic prints: where it happened, never what it said.
//!
//! Library code denies panics and policy code runs sandboxed, so a panic is a bug. But its
//! message is whatever the failing code formatted, and in this program that can be a member's
//! readings, attributes or decision — health data, which never reaches a log. The report keeps
//! what a bug report needs: the place in the code, the thread, and a backtrace when
//! `RUST_BACKTRACE` asks for one (function names only).
//!
//! One panic is not a bug: Rust's sort panics when a policy's comparer is not an order, and the
//! sandbox catches it as the script's error. The hook prints nothing for it
//! ([`incentive_engine::policy::panic_is_expected`]).

use std::backtrace::{Backtrace, BacktraceStatus};
use std::panic::PanicHookInfo;

/// Replaces the default panic report (which prints the message) with [`report`].
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        if let Some(report) = report(info) {
            eprintln!("{report}");
        }
    }));
}

/// A panic's report, without its message; `None` for a panic the engine expects and catches.
pub fn report(info: &PanicHookInfo<'_>) -> Option<String> {
    if incentive_engine::policy::panic_is_expected() {
        return None;
    }
    let place = info.location().map_or_else(
        || "an unknown place".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    let thread = std::thread::current();
    let mut out = format!(
        "internal error: thread `{}` panicked at {place}; its message is withheld, as it may \
         quote a member's data. Please report the place and what was being done.",
        thread.name().unwrap_or("unnamed")
    );
    let backtrace = Backtrace::capture();
    if backtrace.status() == BacktraceStatus::Captured {
        out.push_str(&format!("\n{backtrace}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
    use super::report;
    use std::sync::Mutex;

    #[test]
    fn a_panics_report_names_where_it_happened_and_never_what_it_said() {
        static SEEN: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());
        // Tests share the process's hook: only this test's thread is recorded.
        let this = std::thread::current().id();
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == this {
                SEEN.lock().unwrap().push(report(info));
            }
        }));
        let line = line!() + 1;
        let caught = std::panic::catch_unwind(|| panic!("member M1's fasting glucose 6.2 mmol/L"));
        std::panic::set_hook(before);
        assert!(caught.is_err());
        let seen = SEEN.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let seen = [seen[0].clone().expect("a report")];
        assert!(
            seen[0].contains(&format!("src/panics.rs:{line}:")),
            "names the place: {}",
            seen[0]
        );
        assert!(
            seen[0].starts_with("internal error: thread `"),
            "{}",
            seen[0]
        );
        for secret in ["M1", "glucose", "6.2"] {
            assert!(!seen[0].contains(secret), "{secret} in {}", seen[0]);
        }
    }
}
