//! `hallmark verify`: verify an image's C2PA manifest, chain and signer.

use std::path::PathBuf;

use super::Outcome;

/// Verify a C2PA manifest (embedded or sidecar). Exit 0 valid, 1 invalid or
/// absent, 2 error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image to verify.
    file: PathBuf,
    /// Folder of trusted root certificates / public keys (default: keys/ if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Exit 1 unless the signer is trusted.
    #[arg(long)]
    require_trusted: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(_a: Args) -> anyhow::Result<Outcome> {
    super::not_implemented("verify")
}
