//! Adapters: run each engine and turn its result into the report's own
//! section type. This is the only file that knows the engines' APIs; an
//! engine that cannot run here yields an `unavailable` section with the
//! reason, and one that fails on a file yields an `error` section.

use std::path::Path;

use image::DynamicImage;

use super::sections::{
    ClassifierSection, DwtDctSection, Hint, ManifestSection, MetadataFinding, MetadataSection,
    RecoveredSection, Section, WatermarkSection,
};
use super::CheckOptions;
use crate::credentials::{self, recover::Via, Found, Resolver};
use crate::detect::{Detector, LoadOptions};
use crate::keys::TrustStore;
use crate::media::container::Structure;
use crate::media::metadata::{self, Indicates};
use crate::provenance::{sidecar, ManifestReport, State, Verifier};
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

    /// The verifier, or why there is none.
    pub(crate) fn verifier(&self) -> Result<&Verifier, &str> {
        self.verifier.as_ref().map_err(String::as_str)
    }

    /// Verify the manifest embedded in `bytes`, or in a `.c2pa` sidecar
    /// beside `path` (read as `verify` reads it: size-limited, and an
    /// unreadable sidecar is this section's error).
    pub(crate) fn run(
        &self,
        path: Option<&Path>,
        bytes: &[u8],
        walked: &Structure,
    ) -> Section<ManifestSection> {
        let verifier = match &self.verifier {
            Ok(v) => v,
            Err(why) => return Section::unavailable(why.clone()),
        };
        let sidecar = match path.filter(|_| !walked.has_manifest()) {
            Some(p) => match sidecar::read_beside(p) {
                Ok(s) => s,
                Err(e) => {
                    return Section::Error {
                        error: e.to_string(),
                    }
                }
            },
            None => None,
        };
        Section::from(
            verifier
                .verify_walked(bytes, walked, sidecar.as_deref())
                .map(|r| manifest_section(&r)),
        )
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
        non_conformant: r.state == State::NonConformant,
        failures,
        watermark_payload: credentials::declared_payload(&r.soft_bindings),
    }
}

/// Credentials recovered from a registry.
pub(crate) fn recovered(
    resolver: &Resolver,
    image: &DynamicImage,
    found: Option<Found>,
) -> Section<RecoveredSection> {
    Section::from(resolver.recover_with(image, found).map(|r| {
        let mut s = RecoveredSection {
            registry: r.registry,
            ..RecoveredSection::default()
        };
        if let Some(rec) = r.recovered {
            let m = &rec.manifest;
            s.found = true;
            s.manifest_id = Some(rec.manifest_id);
            s.binding = Some(rec.binding);
            s.via = Some(
                match rec.via {
                    Via::Watermark => "watermark",
                    Via::Fingerprint => "fingerprint",
                }
                .into(),
            );
            s.valid = m.valid;
            s.trusted = m.trusted;
            s.signer = m
                .signer
                .as_ref()
                .map(|x| x.common_name.clone().unwrap_or_else(|| x.subject.clone()));
            s.digital_source_type = m.digital_source_type.clone();
        }
        s
    }))
}

/// The decoded pixels, or why there are none (damaged file, a format
/// without a pixel decoder): pixel engines then report `unavailable`.
pub(crate) type Pixels<'a> = Result<&'a DynamicImage, &'a str>;

/// hallmark's own watermark (default key).
pub(crate) fn watermark(image: Pixels<'_>) -> Section<WatermarkSection> {
    let image = match image {
        Ok(i) => i,
        Err(why) => return Section::unavailable(why),
    };
    Section::from(
        watermark::detect(image, &DetectOptions::default()).map(|d| WatermarkSection {
            found: Found::of(&d),
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
pub(crate) fn dwtdct(image: Pixels<'_>) -> Section<DwtDctSection> {
    let image = match image {
        Ok(i) => i,
        Err(why) => return Section::unavailable(why),
    };
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
pub(crate) fn metadata(bytes: &[u8], walked: &Structure) -> Section<MetadataSection> {
    Section::from(
        Ok::<_, crate::Error>(metadata::read_walked(bytes, walked)).map(|m| MetadataSection {
            gb45438: m.aigc.clone(),
            gb45438_issues: m.aigc_issues.clone(),
            findings: m
                .findings
                .into_iter()
                .map(|f| {
                    let indicates = match f.indicates {
                        Indicates::Ai => Hint::Ai,
                        Indicates::AiEdited => Hint::AiEdited,
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
        }),
    )
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
                encoder: opts.encoder.clone(),
                ..LoadOptions::default()
            })
            .map_err(|e| format!("classifier unavailable: {e}"))
        };
        ClassifierEngine { detector }
    }

    /// The loaded classifier, or why there is none.
    pub(crate) fn detector(&self) -> Result<&Detector, &str> {
        self.detector.as_ref().map_err(String::as_str)
    }

    pub(crate) fn run(&self, image: Pixels<'_>) -> Section<ClassifierSection> {
        let detector = match &self.detector {
            Ok(d) => d,
            Err(reason) => return Section::unavailable(reason.clone()),
        };
        let image = match image {
            Ok(i) => i,
            Err(why) => return Section::unavailable(why),
        };
        match detector.detect_image(image) {
            Ok(d) => match d.score {
                Some(score) => Section::Ok(ClassifierSection {
                    score,
                    label: d.label.as_str().to_string(),
                    model: Some(d.model.to_string()),
                    domain: d.domain.map(|x| x.as_str().to_string()),
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
