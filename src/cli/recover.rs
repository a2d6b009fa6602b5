//! `hallmark recover`: find the Content Credentials of an image whose
//! manifest was stripped, through its watermark and fingerprint.

use std::path::PathBuf;

use hallmark::credentials::recover::Recovery;
use hallmark::credentials::registry::{self, Create};
use hallmark::credentials::Resolver;
use hallmark::media::{read_file, Limits};

use super::registry::{rfc3339, RegistryArg};
use super::{output, Outcome};
use hallmark::keys::TrustStore;

/// Recover an image's credentials from a registry: by hallmark's watermark
/// payload (confirmed by the fingerprint), else by fingerprint alone.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes: 0 credentials recovered, 1 none found, 2 error.")]
pub struct Args {
    /// Image whose credentials to recover.
    file: PathBuf,
    #[command(flatten)]
    registry: RegistryArg,
    /// Folder of trusted roots for the recovered manifest (default: the per-user trust folder).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Json<'a> {
    file: &'a std::path::Path,
    #[serde(flatten)]
    recovery: &'a Recovery,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let reg = registry::open_or_default(a.registry.registry.as_deref(), Create::Never)?;
    let resolver = Resolver::new(reg, &TrustStore::load(a.trust.as_deref())?)?;
    let bytes = read_file(&a.file, &Limits::default())?;
    let r = resolver.recover_bytes(&bytes)?;
    if a.json {
        output::print_json(&Json {
            file: &a.file,
            recovery: &r,
        })?;
    } else {
        output::print_text(&human(&a.file, &r))?;
    }
    Ok(if r.recovered.is_some() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

fn human(file: &std::path::Path, r: &Recovery) -> String {
    let mut t = format!("{}\n", file.display());
    let wm = match &r.watermark_payload {
        Some(p) => format!("hallmark watermark, payload 0x{p}"),
        None => "no hallmark watermark".into(),
    };
    let Some(rec) = &r.recovered else {
        t += &format!("  no credentials found in {} ({wm}", r.registry);
        let near = r.candidates.iter().filter_map(|c| c.distance).min();
        t += &match (r.candidates.is_empty(), near) {
            (true, _) => "; no fingerprint match)\n".to_string(),
            (false, Some(d)) => format!(
                "; {} candidate(s), none confirmed: nearest fingerprint distance {d}/256)\n",
                r.candidates.len()
            ),
            (false, None) => "; candidates without fingerprints to confirm)\n".to_string(),
        };
        return t;
    };
    let m = &rec.manifest;
    let signer = m
        .signer
        .as_ref()
        .map(|s| s.common_name.clone().unwrap_or_else(|| s.subject.clone()))
        .unwrap_or_else(|| "an unnamed signer".into());
    let trust = match (m.valid, m.trusted) {
        (true, true) => "trusted",
        (true, false) => "signer not trusted",
        (false, _) => "DOES NOT VERIFY",
    };
    t += "  recovered Content Credentials (from the registry, not this file's own manifest)\n";
    t += &format!("    manifest   {}\n", rec.manifest_id);
    t += &format!("    bound by   {}\n", rec.binding);
    t += &format!("    signer     {signer} ({trust})\n");
    if let Some(d) = &m.digital_source_type {
        let name = d.rsplit('/').next().unwrap_or(d);
        t += &format!("    declares   {name}\n");
    }
    for a in &m.actions {
        t += &format!(
            "    action     {}{}\n",
            a.action,
            a.when
                .as_deref()
                .map(|w| format!(" ({w})"))
                .unwrap_or_default()
        );
    }
    t += &format!(
        "    recorded   {} in {}\n",
        rfc3339(rec.record.created),
        r.registry
    );
    if !m.valid {
        t += &format!(
            "    warning    {}\n",
            m.reason
                .as_deref()
                .unwrap_or("the recovered manifest does not verify")
        );
    }
    t
}
