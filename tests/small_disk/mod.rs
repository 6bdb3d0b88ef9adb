//! A small tmpfs the test mounts (root only): a disk that fills. Unmounted when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
pub struct SmallDisk {
    pub path: PathBuf,
}

fn mount(args: &[&str], path: &Path) -> bool {
    Command::new("mount")
        .args(args)
        .arg(path)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl SmallDisk {
    /// A `size_mib` tmpfs at `path` (made here); `None` (and a line saying so) where this
    /// process may not mount, unless INCENTIVE_TEST_REQUIRE_MOUNT is set (as `.ci/run` sets it).
    pub fn mount(path: &Path, size_mib: u32) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let size = format!("size={size_mib}m");
        if !mount(&["-t", "tmpfs", "-o", &size, "tmpfs"], path) {
            assert!(
                std::env::var_os("INCENTIVE_TEST_REQUIRE_MOUNT").is_none(),
                "mounting a tmpfs is required here (run as root)"
            );
            eprintln!("a small disk: skipped (this process may not mount a tmpfs)");
            return None;
        }
        Some(Self {
            path: path.to_owned(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: detached now, freed once whatever still has files open there lets go.
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}
