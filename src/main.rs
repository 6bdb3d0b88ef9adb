//! The `incentive` command line: argument parsing and calls into the crates, nothing else.

mod cli;
mod commands;
mod panics;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: evaluations allocate and free many small
/// values (a record's columns, a script's values, explanation lines) on every core, and the
/// C library's allocator was a sixth of a simulation's time (BENCHMARKS.md §7.3e).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    panics::install();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
