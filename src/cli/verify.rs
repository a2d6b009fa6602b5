//! `hallmark verify`: verify an image's C2PA manifest, chain and signer.

use std::path::{Path, PathBuf};

use hallmark::keys::TrustStore;
use hallmark::provenance::{verify_path, ManifestReport};

use super::{output, Outcome};

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

/// The trust folder: `--trust DIR`, else `keys/` if it exists, else none.
pub fn trust_store(dir: Option<&Path>) -> anyhow::Result<TrustStore> {
    match dir {
        Some(d) => Ok(TrustStore::load_dir(d)?),
        None if Path::new("keys").is_dir() => Ok(TrustStore::load_dir(Path::new("keys"))?),
        None => Ok(TrustStore::empty()),
    }
}

#[derive(serde::Serialize)]
struct Json<'a> {
    file: &'a Path,
    manifest: &'a ManifestReport,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let trust = trust_store(a.trust.as_deref())?;
    let report = verify_path(&a.file, &trust)?;
    if a.json {
        output::print_json(&Json {
            file: &a.file,
            manifest: &report,
        })?;
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", a.file.display())?;
        write!(out, "{}", report.human())?;
        out.flush()?;
    }
    let ok = report.valid && (report.trusted || !a.require_trusted);
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
