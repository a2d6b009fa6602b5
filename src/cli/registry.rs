//! `hallmark registry`: record signed files in a manifest registry, and
//! show what a registry holds.

use std::path::PathBuf;

use hallmark::credentials::registry::{self, Create, Stats};
use hallmark::credentials::{Record, Stored};
use hallmark::media::{read_file, Limits};
use hallmark::provenance::{sign::sidecar_path, Verifier};

use super::{output, Outcome};
use hallmark::keys::TrustStore;

/// The registry option every registry-aware command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArg {
    /// Manifest registry: a SQLite file, or postgres://USER@HOST/DB
    /// (default: $HALLMARK_REGISTRY, else registry.sqlite in the user's
    /// data folder, e.g. ~/.local/share/hallmark/).
    #[arg(long, value_name = "R")]
    pub registry: Option<String>,
}

/// Record signed files in a registry, or show its counts.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify signed files and record their manifests, watermark payloads
    /// and fingerprints (append-only; files already recorded are skipped).
    /// Exit 0 all recorded, 2 a file could not be.
    Add(AddArgs),
    /// How many records, bindings and bytes a registry holds.
    Stats(StatsArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Signed images (embedded manifest, or FILE.c2pa beside them).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    registry: RegistryArg,
    /// Folder of trusted roots (default: the per-user trust folder); see --require-trusted.
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Refuse manifests whose signer does not chain to the trust folder.
    #[arg(long)]
    require_trusted: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    registry: RegistryArg,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(c: Command) -> anyhow::Result<Outcome> {
    match c {
        Command::Add(a) => add(a),
        Command::Stats(a) => stats(a),
    }
}

fn add(a: AddArgs) -> anyhow::Result<Outcome> {
    let reg = registry::open_or_default(a.registry.registry.as_deref(), Create::IfMissing)?;
    let verifier = Verifier::new(&TrustStore::load(a.trust.as_deref())?)?;
    let limits = Limits::default();
    let mut failed = 0;
    for file in &a.files {
        match add_one(file, reg.as_ref(), &verifier, &limits, a.require_trusted) {
            Ok((stored, id, notes)) => {
                let word = match stored {
                    Stored::Added => "added",
                    Stored::AlreadyPresent => "known",
                };
                output::print_text(&format!("{word:<6} {}  {id}\n", file.display()))?;
                for n in notes {
                    eprintln!("hallmark: note: {}: {n}", file.display());
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("hallmark: error: {}: {e}", file.display());
            }
        }
    }
    Ok(if failed > 0 {
        Outcome::Error
    } else {
        Outcome::Success
    })
}

fn add_one(
    file: &std::path::Path,
    reg: &dyn registry::Registry,
    verifier: &Verifier,
    limits: &Limits,
    require_trusted: bool,
) -> hallmark::Result<(Stored, String, Vec<String>)> {
    let bytes = read_file(file, limits)?;
    let sc = sidecar_path(file);
    let sidecar = if sc.is_file() {
        Some(std::fs::read(&sc).map_err(|e| hallmark::Error::io(&sc, e))?)
    } else {
        None
    };
    let prepared = Record::from_signed(&bytes, sidecar.as_deref(), verifier, limits)?;
    if require_trusted && !prepared.report.trusted {
        return Err(hallmark::Error::InvalidInput(
            "the signer does not chain to the trust folder (--require-trusted)".into(),
        ));
    }
    let stored = reg.insert(&prepared.record)?;
    Ok((
        stored,
        prepared.record.manifest_id().to_string(),
        prepared.notes,
    ))
}

fn stats(a: StatsArgs) -> anyhow::Result<Outcome> {
    let reg = registry::open_or_default(a.registry.registry.as_deref(), Create::Never)?;
    let s = reg.stats()?;
    if a.json {
        output::print_json(&s)?;
    } else {
        output::print_text(&human(&s))?;
    }
    Ok(Outcome::Success)
}

fn human(s: &Stats) -> String {
    let mut t = format!(
        "registry      {} ({})\nrecords       {}\nfingerprints  {}\n",
        s.location, s.backend, s.records, s.fingerprints
    );
    for (alg, n) in &s.bindings {
        t += &format!("bindings      {n} {alg}\n");
    }
    t += &format!("size          {:.1} MB\n", s.bytes as f64 / 1e6);
    if let Some((first, last)) = s.created_range {
        t += &format!("recorded      {} .. {}\n", rfc3339(first), rfc3339(last));
    }
    t
}

/// Unix seconds as an RFC 3339 UTC time.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}
