//! `hallmark sign`: attach a signed C2PA manifest to an image.

use std::path::PathBuf;

use hallmark::atomic::Overwrite;
use hallmark::credentials::Stored;
use hallmark::outputs;
use hallmark::provenance::SignOptions;
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
    /// Add a thumbnail to the manifest (slower, larger).
    #[arg(long)]
    thumbnail: bool,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
    /// Record the manifest (with its watermark payload and fingerprint) in
    /// this registry before OUT is written: a SQLite file or
    /// postgres://USER@HOST/DB.
    #[arg(long, value_name = "R")]
    registry: Option<String>,
    #[command(flatten)]
    labels: super::sign_labels::LabelArgs,
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
    a.labels.apply(&mut opts)?;
    opts.thumbnail = a.thumbnail;
    opts.overwrite = if a.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    let wm = EmbedOptions::default();
    let signed = outputs::sign(
        &a.input,
        &a.output,
        &opts,
        a.watermark.then_some(&wm),
        a.registry.as_deref(),
    )?;
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
    if let Some(w) = &signed.watermark {
        println!(
            "watermark    payload {} (PSNR {:.1} dB; declared as c2pa.soft-binding)",
            w.payload, w.psnr
        );
        println!("note         the image was re-encoded to carry the watermark; its EXIF/XMP were not copied");
    }
    if let Some(r) = &signed.registry {
        let how = match r.stored {
            Stored::Added => "recorded in",
            Stored::AlreadyPresent => "already in",
        };
        println!("registry     {how} {}", r.location);
        for n in &r.notes {
            eprintln!("hallmark: note: {n}");
        }
    }
    if signed.ingredients > 0 {
        println!("ingredients  {}", signed.ingredients);
    }
    super::sign_labels::print(&signed.labels);
    Ok(Outcome::Success)
}
