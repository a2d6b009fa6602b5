//! `hallmark scan`: check many files in parallel, writing JSON lines.

use std::path::PathBuf;

use super::Outcome;

/// Walk folders and check every file in parallel; one JSON line per file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders ('-' reads paths from stdin).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output JSON lines file (default: stdout).
    #[arg(short, long, value_name = "OUT.jsonl")]
    output: Option<PathBuf>,
    /// Parallel jobs (default: number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Skip files already present in OUT.
    #[arg(long, requires = "output")]
    resume: bool,
    /// Folder of trusted root certificates / public keys.
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
}

pub fn run(_a: Args) -> anyhow::Result<Outcome> {
    super::not_implemented("scan")
}
