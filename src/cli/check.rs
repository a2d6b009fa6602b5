//! `hallmark check`: the fused report and verdict for each file.
//!
//! Exit codes: 0 a report for every file (whatever the verdicts), 2 at least
//! one file could not be checked (the others are still reported).

use std::path::PathBuf;

use anyhow::Context;
use hallmark::report::{human, CheckOptions, Checker, FileError};
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
    /// Folder of trusted root certificates / public keys (default: keys/ if it exists).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Classifier model (ONNX, with its model card beside it).
    #[arg(long, value_name = "M")]
    model: Option<PathBuf>,
    /// Path to the ONNX Runtime shared library.
    #[arg(long, value_name = "LIB")]
    ort_lib: Option<PathBuf>,
    /// Do not run the classifier.
    #[arg(long)]
    no_classifier: bool,
}

impl EngineArgs {
    pub(crate) fn options(self) -> CheckOptions {
        CheckOptions {
            trust: self.trust,
            model: self.model,
            ort_lib: self.ort_lib,
            no_classifier: self.no_classifier,
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
                let line = FileError::new(file.display().to_string(), &e);
                if a.json {
                    super::output::print_json(&line)?;
                }
                // One line, naming the file once.
                if line.error.starts_with(&line.file) {
                    eprintln!("hallmark: error: {}", line.error);
                } else {
                    eprintln!("hallmark: error: {}: {}", line.file, line.error);
                }
            }
        }
    }
    if failed > 0 {
        return Ok(Outcome::Error);
    }
    Ok(Outcome::Success)
}
