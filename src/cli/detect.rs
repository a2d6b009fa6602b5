//! `hallmark detect`: the AI-image classifier's score for each file.

use std::path::PathBuf;

use super::Outcome;

/// Score images with the AI-image classifier (calibrated probability).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images to score.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Model file (ONNX) with its model card beside it.
    #[arg(long, value_name = "M")]
    model: Option<PathBuf>,
    /// Path to the ONNX Runtime shared library.
    #[arg(long, value_name = "LIB")]
    ort_lib: Option<PathBuf>,
    /// Print one JSON object per file.
    #[arg(long)]
    json: bool,
}

pub fn run(_a: Args) -> anyhow::Result<Outcome> {
    super::not_implemented("detect")
}
