//! `hallmark watermark embed|detect`: hallmark's invisible watermark.

use std::path::{Path, PathBuf};

use hallmark::atomic::{refuse_same_file, write_atomic, Overwrite};
use hallmark::media::container::{self, Role};
use hallmark::media::decode::decode_walked;
use hallmark::media::{encode, read_file, Format, Limits};
use hallmark::outputs;
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
    /// Secret watermark key file (at least 16 bytes, e.g. `openssl rand -hex
    /// 32 > wm.key`): only its holder can detect or forge the mark. Default:
    /// the public key, which anyone can read and forge.
    #[arg(long, value_name = "FILE")]
    wm_key: Option<PathBuf>,
    /// Replace OUT if it exists (never the input itself).
    #[arg(long)]
    force: bool,
    /// Mark an input that carries a C2PA manifest anyway; the re-encoded
    /// output loses it (`sign --watermark` keeps it as the parent instead).
    #[arg(long)]
    drop_manifest: bool,
}

#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Image to examine.
    file: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Secret watermark key file the mark was embedded with (default: the
    /// public key).
    #[arg(long, value_name = "FILE")]
    wm_key: Option<PathBuf>,
    /// Skip the first-stage screen and run the full lattice search (slower
    /// on unmarked images; see docs/watermark.md for what the screen costs).
    #[arg(long)]
    exhaustive: bool,
}

/// The key `--wm-key` names, or the public default.
fn key(path: Option<&Path>) -> anyhow::Result<u64> {
    Ok(match path {
        Some(p) => watermark::key::key_from_file(p)?,
        None => watermark::DEFAULT_KEY,
    })
}

pub fn run(c: Command) -> anyhow::Result<Outcome> {
    match c {
        Command::Embed(a) => embed(a),
        Command::Detect(a) => detect(a),
    }
}

fn embed(a: EmbedArgs) -> anyhow::Result<Outcome> {
    let payload = watermark::parse_payload(&a.payload)?;
    let key = key(a.wm_key.as_deref())?;
    let format = output_format(&a.output)?;
    let overwrite = if a.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    refuse_same_file(&a.input, &a.output)?;
    if overwrite == Overwrite::Refuse && a.output.exists() {
        return Err(hallmark::Error::AlreadyExists(a.output.clone()).into());
    }
    let limits = Limits::default();
    let bytes = read_file(&a.input, &limits)?;
    let walked = container::walk(&bytes)?;
    if walked.has_manifest() && !a.drop_manifest {
        return Err(hallmark::Error::InvalidInput(format!(
            "{} carries a C2PA manifest that the re-encoded output would lose; use \
             `hallmark sign --watermark` to keep it as the parent, or --drop-manifest",
            a.input.display()
        ))
        .into());
    }
    let img = decode_walked(&bytes, &walked, &limits)?;
    let opts = EmbedOptions {
        strength: a.strength.unwrap_or(1.0),
        key,
    };
    let marked = watermark::embed(&img, payload, &opts)?;
    let psnr = watermark::psnr(&img, &marked);
    let bytes = encode(&marked, format)?;
    write_atomic(&a.output, &bytes, overwrite)?;
    println!(
        "embedded payload {payload:016x} into {} (PSNR {psnr:.1} dB)",
        a.output.display()
    );
    let metadata = walked
        .segments
        .iter()
        .any(|s| matches!(s.role, Role::Exif | Role::Xmp | Role::Text));
    if metadata || walked.has_manifest() {
        eprintln!("note: the output is re-encoded; the input's metadata (EXIF, XMP, text, C2PA) is not copied");
    }
    Ok(Outcome::Success)
}

fn detect(a: DetectArgs) -> anyhow::Result<Outcome> {
    let opts = DetectOptions {
        key: key(a.wm_key.as_deref())?,
        screen: !a.exhaustive,
        ..DetectOptions::default()
    };
    let limits = Limits::default();
    let d = outputs::watermark_detect_with(&read_file(&a.file, &limits)?, &limits, &opts)?;
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
        .unwrap_or_default();
    Format::from_extension(ext)
        .filter(|f| f.can_encode())
        .ok_or_else(|| {
            hallmark::Error::InvalidInput(format!(
                "cannot tell the output format from {:?}: use .png, .jpg or .webp",
                path.display().to_string()
            ))
            .into()
        })
}
