//! `hallmark watermark embed|detect`: hallmark's invisible watermark.

use std::path::{Path, PathBuf};

use hallmark::atomic::{write_atomic, Overwrite};
use hallmark::media::{decode_file, encode, Format, Limits};
use hallmark::watermark::{self, DetectOptions, EmbedOptions};

use super::output::print_json;
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
        Command::Embed(a) => embed(a),
        Command::Detect(a) => detect(a),
    }
}

fn embed(a: EmbedArgs) -> anyhow::Result<Outcome> {
    let payload = watermark::parse_payload(&a.payload)?;
    let format = output_format(&a.output)?;
    let overwrite = if a.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    if overwrite == Overwrite::Refuse && a.output.exists() {
        return Err(hallmark::Error::AlreadyExists(a.output.clone()).into());
    }
    let img = decode_file(&a.input, &Limits::default())?;
    let opts = EmbedOptions {
        strength: a.strength.unwrap_or(1.0),
        ..EmbedOptions::default()
    };
    let marked = watermark::embed(&img, payload, &opts)?;
    let psnr = watermark::psnr(&img, &marked);
    let bytes = encode(&marked, format)?;
    write_atomic(&a.output, &bytes, overwrite)?;
    println!(
        "embedded payload {payload:016x} into {} (PSNR {psnr:.1} dB)",
        a.output.display()
    );
    Ok(Outcome::Success)
}

fn detect(a: DetectArgs) -> anyhow::Result<Outcome> {
    let img = decode_file(&a.file, &Limits::default())?;
    let d = watermark::detect(&img, &DetectOptions::default())?;
    if a.json {
        print_json(&d)?;
    } else if let (true, Some(p)) = (d.detected, d.payload) {
        println!(
            "{}: watermark found, payload {p:016x} (p = {:.1e})",
            a.file.display(),
            d.p_value
        );
    } else {
        println!("{}: no watermark found", a.file.display());
    }
    Ok(if d.detected {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// The encoder for OUT's extension.
fn output_format(path: &Path) -> anyhow::Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "png" => Ok(Format::Png),
        "jpg" | "jpeg" => Ok(Format::Jpeg),
        "webp" => Ok(Format::Webp),
        _ => Err(hallmark::Error::InvalidInput(format!(
            "cannot tell the output format from {:?}: use .png, .jpg or .webp",
            path.display().to_string()
        ))
        .into()),
    }
}
