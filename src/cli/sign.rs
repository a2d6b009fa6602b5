//! `hallmark sign`: attach a signed C2PA manifest to an image.

use std::path::PathBuf;

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
    /// Embed a watermark carrying the manifest id (durable credentials).
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

pub fn run(_a: Args) -> anyhow::Result<Outcome> {
    super::not_implemented("sign")
}
