//! `hallmark check`: the fused report and verdict for one file.

use std::path::PathBuf;

use super::Outcome;

/// One report fusing manifest, watermark, metadata and classifier evidence.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Folder of trusted root certificates / public keys (default: keys/ if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Print one JSON object per file.
    #[arg(long)]
    json: bool,
}

pub fn run(_a: Args) -> anyhow::Result<Outcome> {
    super::not_implemented("check")
}
