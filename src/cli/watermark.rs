//! `hallmark watermark embed|detect`: hallmark's invisible watermark.

use std::path::PathBuf;

use super::Outcome;

/// Embed or detect hallmark's invisible watermark.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Embed a 64-bit payload as an invisible watermark.
    Embed(EmbedArgs),
    /// Detect the watermark and decode its payload. Exit 0 found, 1 not found, 2 error.
    Detect(DetectArgs),
}

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Image to mark. Never modified.
    input: PathBuf,
    /// Output file (format from its extension: .png, .jpg, .webp).
    #[arg(short, long)]
    output: PathBuf,
    /// 64-bit payload as 16 hex digits.
    #[arg(long, value_name = "HEX16")]
    payload: String,
    /// Embedding strength (1.0 = default; higher is more robust, less invisible).
    #[arg(long, value_name = "S")]
    strength: Option<f32>,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Image to examine.
    file: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(c: Command) -> anyhow::Result<Outcome> {
    match c {
        Command::Embed(_) => super::not_implemented("watermark embed"),
        Command::Detect(_) => super::not_implemented("watermark detect"),
    }
}
