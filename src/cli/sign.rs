//! `hallmark sign`: attach a signed C2PA manifest to an image.

use std::path::PathBuf;

use hallmark::atomic::Overwrite;
use hallmark::provenance::{self, SignOptions};
use hallmark::watermark::EmbedOptions;

use super::Outcome;

/// Sign an image with a C2PA manifest bound to its exact bytes (SHA-256) and
/// signed with Ed25519.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image to sign (JPEG, PNG, WebP). Never modified.
    input: PathBuf,
    /// Output file.
    #[arg(short, long)]
    output: PathBuf,
    /// Secret key from `hallmark keygen`.
    #[arg(long, value_name = "K.key")]
    key: PathBuf,
    /// Certificate chain (default: the .crt beside the key).
    #[arg(long, value_name = "K.crt")]
    cert: Option<PathBuf>,
    /// Mark the image as AI-generated (IPTC trainedAlgorithmicMedia).
    #[arg(long, conflicts_with = "source_type")]
    ai_generated: bool,
    /// IPTC digital source type, e.g. digitalCapture,
    /// compositeWithTrainedAlgorithmicMedia.
    #[arg(long, value_name = "T")]
    source_type: Option<String>,
    /// Creator name.
    #[arg(long)]
    author: Option<String>,
    /// Title.
    #[arg(long)]
    title: Option<String>,
    /// Parent asset(s) this image was made from (ingredients).
    #[arg(long, value_name = "FILE")]
    parent: Vec<PathBuf>,
    /// Write the manifest to OUT.c2pa beside an unchanged copy.
    #[arg(long)]
    sidecar: bool,
    /// Durable credentials: embed hallmark's watermark carrying a hash of
    /// the manifest id (declared in a c2pa.soft-binding assertion) before
    /// signing. Re-encodes the image (JPEG q95; PNG/WebP lossless).
    #[arg(long)]
    watermark: bool,
    /// Add the GB 45438-2025 implicit AIGC label with this producer name.
    #[arg(long, value_name = "PRODUCER")]
    gb45438: Option<String>,
    /// Add a thumbnail to the manifest (slower, larger).
    #[arg(long)]
    thumbnail: bool,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let mut opts = SignOptions::new(a.key);
    opts.cert = a.cert;
    opts.source_type = if a.ai_generated {
        Some("trainedAlgorithmicMedia".into())
    } else {
        a.source_type
    };
    opts.author = a.author;
    opts.title = a.title;
    opts.parents = a.parent;
    opts.sidecar = a.sidecar;
    opts.gb45438_producer = a.gb45438;
    opts.thumbnail = a.thumbnail;
    opts.overwrite = if a.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    let (signed, durable) = if a.watermark {
        let d = provenance::sign_durable(&a.input, &a.output, &opts, &EmbedOptions::default())?;
        (d.signed, Some((d.payload, d.psnr)))
    } else {
        (provenance::sign(&a.input, &a.output, &opts)?, None)
    };
    println!("signed       {}", signed.output.display());
    if let Some(sc) = &signed.sidecar {
        println!(
            "manifest     {} (sidecar, {} bytes)",
            sc.display(),
            signed.manifest_bytes
        );
    } else {
        println!("manifest     embedded, {} bytes", signed.manifest_bytes);
    }
    println!("manifest id  {}", signed.manifest_id);
    println!("signer       {}", signed.signer);
    if let Some((payload, psnr)) = durable {
        println!(
            "watermark    payload {payload:016x} (PSNR {psnr:.1} dB; declared as c2pa.soft-binding)"
        );
        println!("note         the image was re-encoded to carry the watermark; its EXIF/XMP were not copied");
    }
    if signed.ingredients > 0 {
        println!("ingredients  {}", signed.ingredients);
    }
    Ok(Outcome::Success)
}
