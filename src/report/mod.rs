//! The fused report: manifest, watermark, metadata and classifier evidence
//! combined into one verdict with reasons, strongest first.
//!
//! [`Checker`] is built once (trust store, classifier session) and checks
//! files from any number of threads. Each file is read once, hashed once and
//! decoded once; the decoded image is shared by the watermark detectors and
//! the classifier. Every engine degrades gracefully: if one is missing or
//! fails on a file, its section says why (`unavailable` / `error`) and the
//! verdict is made from the rest.
//!
//! - `verdict.rs`: evidence, strength, the decision rules (engine-agnostic).
//! - `sections.rs`: the report's section types and their evidence.
//! - `engines.rs`: adapters from each engine's result to a section.
//! - `human.rs`: the short text a journalist reads.

mod engines;
pub mod human;
pub mod sections;
pub mod verdict;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use sections::{
    ClassifierSection, DwtDctSection, Hint, ManifestSection, MetadataFinding, MetadataSection,
    RecoveredSection, Section, WatermarkSection,
};
pub use verdict::{decide, Decision, Evidence, EvidenceKind, Indication, Strength, Verdict};

use crate::credentials::{registry, Resolver};
use crate::error::{Error, Result};
use crate::keys::TrustStore;
use crate::media::container::{self, Structure};
use crate::media::{self, Limits};

/// What a [`Checker`] uses.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Trust folder; `None` uses the per-user trust folder
    /// ([`crate::keys::trust::user_trust_dir`]) when it exists, else trusts
    /// nothing. Never a folder of the working directory.
    pub trust: Option<PathBuf>,
    /// Classifier model; `None` uses the bundled default.
    pub model: Option<PathBuf>,
    /// ONNX Runtime shared library; `None` searches the usual places.
    pub ort_lib: Option<PathBuf>,
    /// The image encoder a fused model needs; `None` searches the usual
    /// places (`detect::encoder::locate`).
    pub encoder: Option<PathBuf>,
    /// Skip the classifier (its section says so).
    pub no_classifier: bool,
    /// Decoder limits.
    pub limits: Limits,
    /// Manifest registry (`--registry`: a SQLite file or `postgres://...`)
    /// to recover stripped credentials from; `None` consults none.
    pub registry: Option<String>,
}

/// Checks files and produces [`Report`]s. Build once, share across threads.
pub struct Checker {
    trust: TrustStore,
    manifest: engines::ManifestEngine,
    limits: Limits,
    classifier: engines::ClassifierEngine,
    resolver: Option<Resolver>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("trust", &self.trust.source)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Checker {
    /// Load the trust store and the classifier. A trust folder that was
    /// asked for but cannot be read is an error; a missing classifier is not
    /// (its section reports why).
    pub fn new(opts: &CheckOptions) -> Result<Checker> {
        let trust = TrustStore::load(opts.trust.as_deref())?;
        let resolver = match &opts.registry {
            Some(spec) => Some(Resolver::new(
                registry::open(spec, registry::Create::Never)?,
                &trust,
            )?),
            None => None,
        };
        Ok(Checker {
            resolver,
            manifest: engines::ManifestEngine::new(&trust),
            trust,
            limits: opts.limits,
            classifier: engines::ClassifierEngine::new(opts),
        })
    }

    /// The trust store in use.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The decoder limits in use.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The C2PA verifier the manifest section uses, or why it is unavailable.
    pub fn verifier(&self) -> std::result::Result<&crate::provenance::Verifier, &str> {
        self.manifest.verifier()
    }

    /// The registry resolver (`--registry`), if one was configured: the
    /// one recovery uses, shared with the Soft Binding Resolution API.
    pub fn resolver(&self) -> Option<&Resolver> {
        self.resolver.as_ref()
    }

    /// The classifier the classifier section uses, or why it is unavailable
    /// (no ONNX Runtime, no model, `--no-classifier`).
    pub fn detector(&self) -> std::result::Result<&crate::detect::Detector, &str> {
        self.classifier.detector()
    }

    /// Read, decode and check one file. Errors (unreadable, not an image,
    /// over the limits) are errors; engine failures are sections.
    pub fn check_path(&self, path: &Path) -> Result<Report> {
        let t0 = Instant::now();
        let bytes = media::read_file(path, &self.limits)?;
        let read_ms = ms(t0);
        let mut report = self.check_bytes_at(&path.display().to_string(), &bytes, Some(path))?;
        report.timings_ms.read = read_ms;
        report.timings_ms.total += read_ms;
        Ok(report)
    }

    /// Check an image held in memory; `file` names it in the report.
    pub fn check_bytes(&self, file: &str, bytes: &[u8]) -> Result<Report> {
        self.check_bytes_at(file, bytes, None)
    }

    fn check_bytes_at(&self, file: &str, bytes: &[u8], path: Option<&Path>) -> Result<Report> {
        let start = Instant::now();
        let mut t = Timings::default();

        // One walk of the container serves every engine; it also finds
        // truncated and corrupt files, which a pixel decoder may fill in
        // silently.
        let clock = Instant::now();
        let walked = container::walk(bytes)?;
        t.walk = ms(clock);

        let clock = Instant::now();
        let sha256 = hex::encode(Sha256::digest(bytes));
        t.hash = ms(clock);

        let clock = Instant::now();
        let manifest = self.manifest.run(path, bytes, &walked);
        t.manifest = ms(clock);

        let clock = Instant::now();
        let mut warnings = Vec::new();
        let pixels = self.pixels(bytes, &walked, &manifest, &mut warnings)?;
        t.decode = ms(clock);
        let why_not: String;
        let image: engines::Pixels<'_> = match &pixels {
            Ok(img) => Ok(img),
            Err(why) => {
                why_not = why.clone();
                Err(why_not.as_str())
            }
        };

        let clock = Instant::now();
        let watermark = engines::watermark(image);
        t.watermark = ms(clock);

        let clock = Instant::now();
        let dwtdct = engines::dwtdct(image);
        t.dwtdct = ms(clock);

        let clock = Instant::now();
        let metadata = engines::metadata(bytes, &walked);
        t.metadata = ms(clock);

        let clock = Instant::now();
        let classifier = self.classifier.run(image);
        t.classifier = ms(clock);

        let (width, height) = match image {
            Ok(img) => (img.width(), img.height()),
            Err(_) => walked.dimensions.unwrap_or((0, 0)),
        };
        let recovered = match (&self.resolver, image) {
            (Some(r), Ok(img)) if !manifest.ok().is_some_and(|m| m.present && m.valid) => {
                let found = watermark.ok().and_then(|w| w.found);
                Some(engines::recovered(r, img, found))
            }
            _ => None,
        };

        let media = MediaInfo {
            format: walked.format.mime().to_string(),
            width,
            height,
            bytes: bytes.len() as u64,
            sha256,
        };
        drop(pixels);
        let mut report = Report::assemble(
            file.to_string(),
            media,
            manifest,
            watermark,
            dwtdct,
            metadata,
            classifier,
        );
        if let Some(rec) = recovered {
            report.fold_recovery(rec);
        }
        report.set_warnings(warnings);
        report.trust_store = self.trust.describe();
        t.total = ms(start);
        report.timings_ms = t;
        Ok(report)
    }

    /// The pixels, decoded only from a whole file of a format with a
    /// decoder; otherwise why not (the pixel engines report it). A damaged
    /// or undecodable file is an error unless a manifest was found to judge
    /// it by (then the damage is a warning and evidence against the
    /// manifest); a format without a pixel decoder (HEIF, AVIF) is never
    /// an error.
    fn pixels(
        &self,
        bytes: &[u8],
        walked: &Structure,
        manifest: &Section<ManifestSection>,
        warnings: &mut Vec<String>,
    ) -> Result<Result<image::DynamicImage, String>> {
        let manifest_found = manifest.ok().is_some_and(|m| m.present);
        if let Some(d) = &walked.damage {
            if !manifest_found {
                return Err(d.to_error());
            }
            warnings.push(d.message());
            return Ok(Err(format!(
                "pixels not analysed: the file is {}",
                d.message()
            )));
        }
        if walked.format.image_format().is_none() {
            return Ok(Err(format!(
                "unsupported format for pixels ({})",
                walked.format.mime()
            )));
        }
        match media::decode::decode_walked(bytes, walked, &self.limits) {
            Ok(img) => Ok(Ok(img)),
            Err(Error::Unsupported(why)) => {
                Ok(Err(format!("unsupported format for pixels: {why}")))
            }
            Err(e) if manifest_found => {
                warnings.push(format!("pixels cannot be decoded: {e}"));
                Ok(Err(format!("pixels not analysed: {e}")))
            }
            Err(e) => Err(e),
        }
    }
}

fn ms(since: Instant) -> f64 {
    let v = since.elapsed().as_secs_f64() * 1e3;
    (v * 1000.0).round() / 1000.0
}

/// The decoded file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaInfo {
    /// Media type sniffed from the bytes.
    pub format: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// Milliseconds spent per stage (volatile: normalise before comparing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading the file.
    pub read: f64,
    /// Walking the container (structure, damage).
    pub walk: f64,
    /// Decoding the pixels.
    pub decode: f64,
    /// SHA-256 of the bytes.
    pub hash: f64,
    /// C2PA manifest verification.
    pub manifest: f64,
    /// hallmark watermark detection.
    pub watermark: f64,
    /// Stable Diffusion dwtDct detection.
    pub dwtdct: f64,
    /// Metadata forensics.
    pub metadata: f64,
    /// Classifier inference.
    pub classifier: f64,
    /// The whole check.
    pub total: f64,
}

impl Timings {
    /// Add another file's timings (for batch totals).
    pub fn add(&mut self, o: &Timings) {
        self.read += o.read;
        self.walk += o.walk;
        self.decode += o.decode;
        self.hash += o.hash;
        self.manifest += o.manifest;
        self.watermark += o.watermark;
        self.dwtdct += o.dwtdct;
        self.metadata += o.metadata;
        self.classifier += o.classifier;
        self.total += o.total;
    }

    /// (stage, milliseconds) pairs in pipeline order, `total` excluded.
    pub fn stages(&self) -> [(&'static str, f64); 9] {
        [
            ("read", self.read),
            ("walk", self.walk),
            ("decode", self.decode),
            ("hash", self.hash),
            ("manifest", self.manifest),
            ("watermark", self.watermark),
            ("dwtdct", self.dwtdct),
            ("metadata", self.metadata),
            ("classifier", self.classifier),
        ]
    }
}

/// The fused report for one file (`hallmark check --json`, one `scan` line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The file, as named on the command line or found in a folder.
    pub file: String,
    /// The stable machine verdict.
    pub verdict: Verdict,
    /// One line for a person.
    pub summary: String,
    /// Evidence, strongest first.
    pub evidence: Vec<Evidence>,
    /// Findings that contradict the verdict.
    pub conflicts: Vec<String>,
    /// The file itself.
    pub media: MediaInfo,
    /// The trust store the manifest was judged against.
    pub trust_store: String,
    /// C2PA manifest.
    pub manifest: Section<ManifestSection>,
    /// hallmark's watermark.
    pub watermark: Section<WatermarkSection>,
    /// Stable Diffusion / SDXL invisible watermark.
    pub dwtdct: Section<DwtDctSection>,
    /// Metadata traces.
    pub metadata: Section<MetadataSection>,
    /// Pixel classifier.
    pub classifier: Section<ClassifierSection>,
    /// Problems with the file itself that did not stop the report (a
    /// damaged file whose manifest could still be judged, undecodable
    /// pixels); the summary names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Credentials recovered from a registry (only with `--registry`, when
    /// the file has no valid manifest of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Section<RecoveredSection>>,
    /// Time per stage.
    pub timings_ms: Timings,
}

impl Report {
    /// Build the evidence from the sections and decide.
    pub fn assemble(
        file: String,
        media: MediaInfo,
        manifest: Section<ManifestSection>,
        watermark: Section<WatermarkSection>,
        dwtdct: Section<DwtDctSection>,
        metadata: Section<MetadataSection>,
        classifier: Section<ClassifierSection>,
    ) -> Report {
        let mut evidence = Vec::new();
        let manifest_present = manifest.ok().map(|m| m.present);
        let manifest_valid = manifest.ok().is_some_and(|m| m.present && m.valid);
        if let Some(m) = manifest.ok() {
            evidence.extend(sections::manifest_evidence(m));
        }
        if let Some(w) = watermark.ok() {
            let declared = manifest.ok().and_then(|m| m.watermark_payload.as_deref());
            evidence.extend(sections::watermark_evidence(w, manifest_valid, declared));
        }
        if let Some(d) = dwtdct.ok() {
            evidence.extend(sections::dwtdct_evidence(d));
        }
        if let Some(m) = metadata.ok() {
            evidence.extend(sections::metadata_evidence(m));
        }
        if let Some(c) = classifier.ok() {
            evidence.extend(sections::classifier_evidence(c));
        }
        let d = decide(evidence, manifest_present);
        Report {
            file,
            verdict: d.verdict,
            summary: d.summary,
            evidence: d.evidence,
            conflicts: d.conflicts,
            media,
            trust_store: String::new(),
            manifest,
            watermark,
            dwtdct,
            metadata,
            classifier,
            warnings: Vec::new(),
            recovered: None,
            timings_ms: Timings::default(),
        }
    }

    /// Record problems with the file and name them in the summary.
    pub fn set_warnings(&mut self, warnings: Vec<String>) {
        if !warnings.is_empty() {
            self.summary = format!("{}; {}", self.summary, warnings.join("; "));
        }
        self.warnings = warnings;
    }

    /// Add the credentials recovered from a registry and decide again: a
    /// stripped copy of a signed image gets the verdict of its recovered
    /// credentials, with the binding named.
    pub fn fold_recovery(&mut self, recovered: Section<RecoveredSection>) {
        if let Some(r) = recovered.ok().filter(|r| r.found) {
            let mut evidence = sections::recovered_evidence(r);
            for mut e in self.evidence.drain(..) {
                if r.via.as_deref() == Some("watermark")
                    && e.kind == EvidenceKind::Watermark
                    && e.indicates == Indication::Watermarked
                {
                    e.indicates = Indication::Info;
                    e.finding += "; it leads to the recovered credentials";
                }
                evidence.push(e);
            }
            let manifest_present = self.manifest.ok().map(|m| m.present);
            let d = decide(evidence, manifest_present);
            self.verdict = d.verdict;
            self.summary = d.summary;
            self.evidence = d.evidence;
            self.conflicts = d.conflicts;
        }
        self.recovered = Some(recovered);
    }

    /// Sections that did not run, with why: `(name, reason)`.
    pub fn missing_sections(&self) -> Vec<(&'static str, &str)> {
        [
            ("manifest", self.manifest.missing_reason()),
            ("watermark", self.watermark.missing_reason()),
            ("dwtdct", self.dwtdct.missing_reason()),
            ("metadata", self.metadata.missing_reason()),
            ("classifier", self.classifier.missing_reason()),
        ]
        .into_iter()
        .filter_map(|(n, r)| r.map(|r| (n, r)))
        .collect()
    }
}

/// A file that could not be checked (`scan` writes one line per such file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileError {
    /// The file.
    pub file: String,
    /// What went wrong, one line.
    pub error: String,
    /// `io`, `decode`, `limits`, `unsupported`, `invalid_input` or `other`.
    pub error_kind: &'static str,
}

impl FileError {
    /// Describe an error for a file.
    pub fn new(file: impl Into<String>, err: &Error) -> Self {
        let error_kind = match err {
            Error::Io { .. } => "io",
            Error::Decode(_) => "decode",
            Error::Limits(_) => "limits",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidInput(_) => "invalid_input",
            _ => "other",
        };
        FileError {
            file: file.into(),
            error: err.to_string().replace('\n', " "),
            error_kind,
        }
    }
    /// The one-line message `check` prints (after `hallmark: error: `):
    /// the error, led by the file's name unless the error already names it.
    pub fn message(&self) -> String {
        if self.error.starts_with(&self.file) {
            self.error.clone()
        } else {
            format!("{}: {}", self.file, self.error)
        }
    }
}
