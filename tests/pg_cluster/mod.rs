//! A PostgreSQL server of the test's own: a cluster made with `initdb` in a temporary
//! directory, on a free loopback port, that the test may stop as a crash would and start again
//! without disturbing the shared server other tests run on. Debian's server binaries
//! (`/usr/lib/postgresql/N/bin`), which `.ci/run` installs; as root (CI), run as the `postgres`
//! user, since PostgreSQL refuses to run as root.

use crate::small_disk::SmallDisk;
use std::path::PathBuf;
use std::process::{Command, Output};

#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

/// The newest Debian server binaries on this machine.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// A new cluster, started; `None` (and a line saying so) where there are no server
    /// binaries, unless INCENTIVE_TEST_REQUIRE_PG_CTL is set (as `.ci/run` sets it).
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin() else {
            assert!(
                std::env::var_os("INCENTIVE_TEST_REQUIRE_PG_CTL").is_none(),
                "PostgreSQL's server binaries are required here: apt-get install postgresql"
            );
            eprintln!("own PostgreSQL server: skipped (no /usr/lib/postgresql/N/bin/pg_ctl)");
            return None;
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let dir = tempfile::Builder::new()
            .prefix("incentive-pg-")
            .tempdir()
            .unwrap();
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres_user: root,
        };
        if root {
            cluster.check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(cluster.dir.path()),
            );
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "--no-instructions",
            ],
        );
        cluster.start_again();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn check(&self, command: &mut Command) -> Output {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.check(self.command(program).args(args))
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let data = self.data();
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server as a crash would: every backend killed, no checkpoint, and recovery
    /// from the write-ahead log at the next start.
    pub fn crash(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

impl Cluster {
    /// A `size_mib` disk the server may write in, as the tablespace `name`; `None` where this
    /// process may not mount one (see `SmallDisk::mount`).
    pub fn small_tablespace(&self, name: &str, size_mib: u32) -> Option<SmallDisk> {
        let disk = SmallDisk::mount(&self.dir.path().join(name), size_mib)?;
        if self.as_postgres_user {
            self.check(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&disk.path),
            );
        }
        Some(disk)
    }
}
