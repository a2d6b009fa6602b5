//! The JSON object each command answers with, built in one place so the CLI
//! (`--json`) and the HTTP API (`hallmark serve`) print exactly the same
//! thing: `check` is a [`crate::report::Report`], `verify` a
//! [`VerifyOutput`], `detect` a [`DetectOutput`], `watermark detect` a
//! [`crate::watermark::Detection`] (from [`watermark_detect`]) and `sign`
//! a [`SignOutput`] (from [`sign`]; the Python binding returns it).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::credentials;
use crate::credentials::registry::{self, Create, Stored};
use crate::detect::Detection;
use crate::error::Result;
use crate::keys::TrustStore;
use crate::media::{self, Limits};
use crate::provenance::{self, ManifestReport, SignOptions, Verifier};
use crate::watermark::{self, DetectOptions, EmbedOptions};

/// `hallmark verify --json`: the file and its manifest report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyOutput {
    /// The file, as named on the command line (or the upload's name).
    pub file: String,
    /// The trust store the signer was judged against, in words.
    pub trust_store: String,
    /// What verification found.
    pub manifest: ManifestReport,
}

impl VerifyOutput {
    /// The answer for `file`, judged against the store `trust_store`
    /// describes ([`crate::keys::TrustStore::describe`]).
    pub fn new(file: impl Into<String>, trust_store: String, manifest: ManifestReport) -> Self {
        VerifyOutput {
            file: file.into(),
            trust_store,
            manifest,
        }
    }
}

/// `hallmark detect --json`: the file and the classifier's fields, flattened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectOutput {
    /// The file, as named on the command line (or the upload's name).
    pub file: String,
    /// The classifier's result.
    #[serde(flatten)]
    pub detection: Detection,
}

impl DetectOutput {
    /// The answer for `file`.
    pub fn new(file: impl Into<String>, detection: Detection) -> Self {
        DetectOutput {
            file: file.into(),
            detection,
        }
    }
}

/// `hallmark watermark detect`: decode (under `limits`) and look for
/// hallmark's watermark with the default key.
pub fn watermark_detect(bytes: &[u8], limits: &Limits) -> Result<watermark::Detection> {
    watermark_detect_with(bytes, limits, &DetectOptions::default())
}

/// [`watermark_detect`] with explicit options (a secret key).
pub fn watermark_detect_with(
    bytes: &[u8],
    limits: &Limits,
    opts: &DetectOptions,
) -> Result<watermark::Detection> {
    let image = media::decode(bytes, limits)?;
    watermark::detect(&image, opts)
}

/// What `hallmark sign` wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignOutput {
    /// The signed image.
    pub output: PathBuf,
    /// The sidecar manifest (`OUT.c2pa`), when one was asked for.
    pub sidecar: Option<PathBuf>,
    /// The manifest id (`urn:c2pa:UUID`).
    pub manifest_id: String,
    /// Size of the manifest store in bytes.
    pub manifest_bytes: usize,
    /// Subject of the signing certificate.
    pub signer: String,
    /// Number of ingredients recorded.
    pub ingredients: usize,
    /// The watermark of durable credentials (`--watermark`), else `None`.
    pub watermark: Option<SignedWatermark>,
    /// Where the manifest was recorded (`--registry`), else `None`.
    pub registry: Option<SignedRecord>,
    /// The AI labels written besides the manifest (printed by the CLI).
    #[serde(skip)]
    pub labels: provenance::LabelsWritten,
}

/// The watermark `sign --watermark` embedded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedWatermark {
    /// The payload, 16 hex digits (declared as `c2pa.soft-binding`).
    pub payload: String,
    /// PSNR of the watermarked image against the input, dB.
    pub psnr: f64,
}

/// The registry record `sign --registry` made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedRecord {
    /// The registry (file, or URL without its password).
    pub location: String,
    /// Whether the record is new or was already there.
    pub stored: Stored,
    /// What recording noticed.
    pub notes: Vec<String>,
}

/// `hallmark sign`: sign `input` into `output`; with `watermark`, durable
/// credentials (the watermark is embedded first, then the image is
/// signed); with `registry` (a SQLite file, created if missing, or
/// `postgres://...`), the manifest is recorded there before the output is
/// written ([`credentials::sign_recorded`]).
pub fn sign(
    input: &Path,
    output: &Path,
    opts: &SignOptions,
    watermark: Option<&EmbedOptions>,
    registry: Option<&str>,
) -> Result<SignOutput> {
    let mut record = None;
    let (signed, mark) = if let Some(spec) = registry {
        let reg = registry::open(spec, Create::IfMissing)?;
        let verifier = Verifier::new(&TrustStore::empty())?;
        let r =
            credentials::sign_recorded(input, output, opts, watermark, reg.as_ref(), &verifier)?;
        record = Some(SignedRecord {
            location: reg.location(),
            stored: r.stored,
            notes: r.notes,
        });
        (r.signed, r.watermark)
    } else if let Some(wm) = watermark {
        let d = credentials::sign_durable(input, output, opts, wm)?;
        (d.signed, Some((d.payload, d.psnr)))
    } else {
        (provenance::sign(input, output, opts)?, None)
    };
    Ok(SignOutput {
        output: signed.output,
        sidecar: signed.sidecar,
        manifest_id: signed.manifest_id,
        manifest_bytes: signed.manifest_bytes,
        signer: signed.signer,
        ingredients: signed.ingredients,
        labels: signed.labels,
        watermark: mark.map(|(payload, psnr)| SignedWatermark {
            payload: format!("{payload:016x}"),
            psnr,
        }),
        registry: record,
    })
}
