//! Adapters: run each engine and turn its result into the report's own
//! section type. This is the only file that knows the engines' APIs; an
//! engine that cannot run here yields an `unavailable` section with the
//! reason, and one that fails on a file yields an `error` section.

use std::path::Path;

use image::DynamicImage;

use super::sections::{
    source_type_indication, ClassifierSection, DwtDctSection, Hint, ManifestSection,
    MetadataFinding, MetadataSection, Section, WatermarkSection,
};
use super::verdict::Indication;
use super::CheckOptions;
use crate::detect::{Detector, LoadOptions};
use crate::keys::TrustStore;
use crate::media::metadata::{self, Indicates};
use crate::provenance::{self, durable, ManifestReport, Verifier};
use crate::watermark::{self, dwtdct, DetectOptions};

/// The C2PA verifier, configured once with the trust anchors.
pub(crate) struct ManifestEngine {
    verifier: Result<Verifier, String>,
}

impl ManifestEngine {
    pub(crate) fn new(trust: &TrustStore) -> Self {
        ManifestEngine {
            verifier: Verifier::new(trust)
                .map_err(|e| format!("C2PA verification unavailable: {e}")),
        }
    }

    /// Verify the manifest embedded in `bytes`, or in a `.c2pa` sidecar
    /// beside `path`.
    pub(crate) fn run(&self, path: Option<&Path>, bytes: &[u8]) -> Section<ManifestSection> {
        let verifier = match &self.verifier {
            Ok(v) => v,
            Err(why) => return Section::unavailable(why.clone()),
        };
        let sidecar = path
            .map(provenance::sign::sidecar_path)
            .filter(|p| p.is_file())
            .and_then(|p| std::fs::read(p).ok());
        let mut report = verifier.verify_bytes(bytes, None);
        if let (Ok(r), Some(store)) = (&report, &sidecar) {
            if !r.present {
                report = verifier.verify_bytes(bytes, Some(store));
            }
        }
        Section::from(report.map(|r| manifest_section(&r)))
    }
}

fn manifest_section(r: &ManifestReport) -> ManifestSection {
    let mut failures: Vec<String> = r
        .status
        .failure
        .iter()
        .filter(|f| f.code != "signingCredential.untrusted")
        .map(|f| match &f.explanation {
            Some(e) => format!("{}: {e}", f.code),
            None => f.code.clone(),
        })
        .collect();
    if r.present && !r.valid {
        if let Some(reason) = &r.reason {
            failures.insert(0, reason.clone());
        }
    }
    ManifestSection {
        present: r.present,
        valid: r.valid,
        trusted: r.trusted,
        signer: r
            .signer
            .as_ref()
            .map(|s| s.common_name.clone().unwrap_or_else(|| s.subject.clone())),
        digital_source_type: r.digital_source_type.clone(),
        claim_generator: r.generator.clone(),
        failures,
        watermark_payload: durable::declared_payload(&r.soft_bindings),
    }
}

/// hallmark's own watermark (default key).
pub(crate) fn watermark(image: &DynamicImage) -> Section<WatermarkSection> {
    Section::from(
        watermark::detect(image, &DetectOptions::default()).map(|d| WatermarkSection {
            detected: d.detected,
            payload: d
                .payload
                .filter(|_| d.detected)
                .map(|p| format!("{p:016x}")),
            p_value: Some(d.p_value),
        }),
    )
}

/// The Stable Diffusion / SDXL dwtDct mark.
pub(crate) fn dwtdct(image: &DynamicImage) -> Section<DwtDctSection> {
    Section::from(dwtdct::detect(image).map(|m| match m {
        Some(m) => DwtDctSection {
            detected: true,
            generator: Some(m.generator),
            message: Some(m.message),
            match_ratio: Some(m.bit_agreement),
            p_value: Some(m.p_value),
        },
        None => DwtDctSection::default(),
    }))
}

/// Metadata forensics.
pub(crate) fn metadata(bytes: &[u8]) -> Section<MetadataSection> {
    Section::from(metadata::read(bytes).map(|m| {
        MetadataSection {
            findings: m
                .findings
                .into_iter()
                .map(|f| {
                    let indicates = match f.indicates {
                        Indicates::Ai
                            if source_type_indication(&f.value) == Indication::AiEdited =>
                        {
                            Hint::AiEdited
                        }
                        Indicates::Ai => Hint::Ai,
                        Indicates::Capture => Hint::Capture,
                        Indicates::Edited => Hint::Edited,
                        _ => Hint::Info,
                    };
                    MetadataFinding {
                        field: f.field,
                        value: f.value,
                        generator: f.generator,
                        indicates,
                    }
                })
                .collect(),
        }
    }))
}

/// The classifier, loaded once per [`super::Checker`]. Without ONNX Runtime
/// or a model the section says why and the report goes on.
pub(crate) struct ClassifierEngine {
    detector: Result<Detector, String>,
}

impl ClassifierEngine {
    pub(crate) fn new(opts: &CheckOptions) -> Self {
        let detector = if opts.no_classifier {
            Err("classifier disabled (--no-classifier)".to_string())
        } else {
            Detector::load(&LoadOptions {
                model: opts.model.clone(),
                ort_lib: opts.ort_lib.clone(),
                ..LoadOptions::default()
            })
            .map_err(|e| format!("classifier unavailable: {e}"))
        };
        ClassifierEngine { detector }
    }

    pub(crate) fn run(&self, image: &DynamicImage) -> Section<ClassifierSection> {
        let detector = match &self.detector {
            Ok(d) => d,
            Err(reason) => return Section::unavailable(reason.clone()),
        };
        match detector.detect_image(image) {
            Ok(d) => match d.score {
                Some(score) => Section::Ok(ClassifierSection {
                    score,
                    label: d.label.as_str().to_string(),
                    model: Some(d.model.to_string()),
                }),
                None => Section::unavailable(format!(
                    "classifier could not score this image: {}",
                    d.reason.unwrap_or_else(|| "no reason given".into())
                )),
            },
            Err(e) => Section::Error {
                error: e.to_string(),
            },
        }
    }
}
