//! The browser the end-to-end tests drive: `INCENTIVE_TEST_CHROMIUM` (which `.ci/run` sets
//! after installing Debian's chromium), else one found on the PATH.

use std::path::PathBuf;
use std::process::Command;

pub fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("INCENTIVE_TEST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
            (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
        })
}
