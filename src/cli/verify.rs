//! `hallmark verify`: verify an image's C2PA manifest, chain and signer.

use std::path::PathBuf;

use hallmark::keys::TrustStore;
use hallmark::outputs::VerifyOutput;
use hallmark::provenance::verify_path;

use super::{output, Outcome};

/// Verify a C2PA manifest (embedded or sidecar). Exit 0 valid, 1 invalid or
/// absent, 2 error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image to verify.
    file: PathBuf,
    /// Folder of trusted root certificates / public keys (default: the per-user folder ~/.config/hallmark/trust, if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Exit 1 unless the signer is trusted.
    #[arg(long)]
    require_trusted: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let trust = TrustStore::load(a.trust.as_deref())?;
    let report = verify_path(&a.file, &trust)?;
    let ok = report.valid && (report.trusted || !a.require_trusted);
    if a.json {
        output::print_json(&VerifyOutput::new(
            a.file.display().to_string(),
            trust.describe(),
            report,
        ))?;
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", a.file.display())?;
        write!(out, "{}", report.human())?;
        writeln!(out, "  Trust:     {}", trust.describe())?;
        out.flush()?;
    }
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
