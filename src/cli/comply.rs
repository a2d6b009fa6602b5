//! `hallmark comply`: which obligations of AI-labelling law (GB 45438-2025,
//! EU AI Act Art. 50) each file meets, which it fails, and why.
//!
//! Exit codes: 0 every file compliant, 1 a file is not, 2 a file could not
//! be checked (the others are still reported).

use std::path::PathBuf;

use anyhow::Context;
use hallmark::comply::{Complier, Rule};
use hallmark::keys::TrustStore;
use hallmark::scan::{inputs, Work};

use super::Outcome;

/// Check files against AI-labelling rules.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 every file compliant, 1 a file is not compliant, 2 a file could not be checked."
)]
pub struct Args {
    /// Images to check, or folders (their images, recursively, in name order).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Rules to check, comma-separated: gb45438, eu-ai-act.
    #[arg(long, value_name = "RULES", default_value = "gb45438,eu-ai-act")]
    rules: String,
    /// Folder of trusted root certificates / public keys (default: the
    /// per-user folder ~/.config/hallmark/trust, if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Print one JSON object per file.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let rules = Rule::parse_list(&a.rules)?;
    let trust = TrustStore::load(a.trust.as_deref())?;
    let complier = Complier::new(&trust).context("cannot set up the checks")?;
    let (mut failed, mut negative) = (0usize, 0usize);
    for (i, work) in inputs(&a.files).enumerate() {
        let (file, result) = match work {
            Work::Check(path) => {
                let r = complier.check_path(&path, &rules);
                (path, r)
            }
            Work::Failed(name, e) => (PathBuf::from(name), Err(e)),
        };
        match result {
            Ok(report) => {
                if !report.compliant {
                    negative += 1;
                }
                if a.json {
                    super::output::print_json(&report)?;
                } else {
                    if i > 0 {
                        super::output::print_text("\n")?;
                    }
                    super::output::print_text(&report.human())?;
                }
            }
            Err(e) => {
                failed += 1;
                super::output::file_error(a.json, &file, &e)?;
            }
        }
    }
    Ok(if failed > 0 {
        Outcome::Error
    } else if negative > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
