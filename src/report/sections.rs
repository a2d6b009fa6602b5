//! The report's sections (manifest, watermark, dwtDct, metadata, classifier)
//! and how each becomes [`Evidence`].
//!
//! Each section is a [`Section`]: `ok` with its findings, `unavailable` with a
//! reason (engine not installed, no model, no ONNX Runtime), or `error` (the
//! engine failed on this file). One missing engine never stops a report.
//! The section types are the report's own, stable JSON; `engines.rs` adapts
//! each engine's result into them.

use serde::Serialize;

use super::verdict::{Evidence, EvidenceKind as K, Indication as I, Strength as S};
use crate::credentials::Found;
use crate::media::source_type::{self, Origin};

/// One section of the report. JSON: `{"status": "ok", ...fields}`,
/// `{"status": "unavailable", "reason": ...}` or `{"status": "error", "error": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Section<T> {
    /// The engine ran.
    Ok(T),
    /// The engine could not run here (not installed, no model...).
    Unavailable {
        /// Why, with what to do about it.
        reason: String,
    },
    /// The engine failed on this file.
    Error {
        /// The error, one line.
        error: String,
    },
}

impl<T> Section<T> {
    /// The findings, if the engine ran.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Section::Ok(t) => Some(t),
            _ => None,
        }
    }

    /// An unavailable section.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Section::Unavailable {
            reason: reason.into(),
        }
    }

    /// Why the section has no findings, if it has none.
    pub fn missing_reason(&self) -> Option<&str> {
        match self {
            Section::Ok(_) => None,
            Section::Unavailable { reason } => Some(reason),
            Section::Error { error } => Some(error),
        }
    }
}

impl<T> From<crate::Result<T>> for Section<T> {
    fn from(r: crate::Result<T>) -> Self {
        match r {
            Ok(t) => Section::Ok(t),
            Err(e) => Section::Error {
                error: e.to_string(),
            },
        }
    }
}

/// The C2PA manifest, as verified.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ManifestSection {
    /// A manifest was found (embedded or sidecar).
    pub present: bool,
    /// Its signature, hashes and structure validate.
    pub valid: bool,
    /// Its signer chains to the trust store.
    pub trusted: bool,
    /// The signer's name (certificate subject), if any.
    pub signer: Option<String>,
    /// The declared IPTC digital source type (full IRI as written).
    pub digital_source_type: Option<String>,
    /// The claim generator (the software that wrote the manifest).
    pub claim_generator: Option<String>,
    /// Not valid only because the hard binding leaves more than the
    /// manifest unhashed (C2PA 2.4 section 15.12): a non-conformant binding,
    /// not evidence that the file changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub non_conformant: bool,
    /// Why validation failed, one line per failure.
    pub failures: Vec<String>,
    /// The hallmark watermark payload the manifest declares in a
    /// `c2pa.soft-binding` assertion (durable credentials), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark_payload: Option<String>,
}

/// What a valid signed manifest claims, and how far to believe it.
struct SignedClaim {
    indication: I,
    strength: S,
    trust: &'static str,
    declares: String,
}

/// A valid signature chaining to the trust store is cryptographic; by an
/// unknown signer it is strong when it declares AI (few forge a confession)
/// but only medium otherwise (a camera claim is what a forger would make).
fn signed_claim(trusted: bool, source_type: Option<&str>) -> SignedClaim {
    let indication = source_type.map_or(I::Signed, source_type_indication);
    SignedClaim {
        indication,
        strength: if trusted {
            S::Cryptographic
        } else if indication.is_ai_claim() {
            S::Strong
        } else {
            S::Medium
        },
        trust: if trusted {
            "trusted"
        } else {
            "signer not trusted"
        },
        declares: match source_type {
            Some(t) => format!("declares {}", source_type_name(t)),
            None => "declares no digital source type".to_string(),
        },
    }
}

/// Content Credentials recovered from a registry (`check --registry`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecoveredSection {
    /// The registry searched.
    pub registry: String,
    /// Credentials were found and confirmed.
    pub found: bool,
    /// The recovered manifest's id.
    pub manifest_id: Option<String>,
    /// How the image is bound to it, in words.
    pub binding: Option<String>,
    /// `watermark` (payload confirmed by fingerprint) or `fingerprint`.
    pub via: Option<String>,
    /// The recovered manifest verifies on its own (signature, certificate,
    /// assertions; its hard binding cannot apply to this copy).
    pub valid: bool,
    /// Its signer chains to the trust store.
    pub trusted: bool,
    /// Its signer.
    pub signer: Option<String>,
    /// The digital source type it declares.
    pub digital_source_type: Option<String>,
}

/// Evidence from recovered credentials. Strength is the weaker of the
/// manifest's (as for an embedded one) and the binding's: a watermark
/// confirmed by the fingerprint is strong; a fingerprint alone is medium.
pub fn recovered_evidence(r: &RecoveredSection) -> Vec<Evidence> {
    if !r.found {
        return Vec::new();
    }
    let signer = r.signer.as_deref().unwrap_or("an unnamed signer");
    let binding = r.binding.as_deref().unwrap_or("a soft binding");
    if !r.valid {
        return vec![Evidence::new(
            K::Recovered,
            S::Weak,
            I::Info,
            format!("registry credentials by {signer} found ({binding}) but they do not verify"),
        )];
    }
    let SignedClaim {
        indication,
        strength: manifest_strength,
        trust,
        declares,
    } = signed_claim(r.trusted, r.digital_source_type.as_deref());
    let binding_strength = if r.via.as_deref() == Some("watermark") {
        S::Strong
    } else {
        S::Medium
    };
    let via = r.via.as_deref().unwrap_or("registry");
    vec![Evidence::new(
        K::Recovered,
        manifest_strength.min(binding_strength),
        indication,
        format!(
            "recovered Content Credentials (manifest stripped): signed by {signer} ({trust}), {declares}; bound by {binding}"
        ),
    )
    .with_short(format!("recovered credentials by {signer}, {trust}, via {via}"))]
}

/// hallmark's own watermark.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WatermarkSection {
    /// Found with a false-positive probability under the detector's threshold.
    pub detected: bool,
    /// The 64-bit payload as 16 hex digits, when detected.
    pub payload: Option<String>,
    /// Probability of a detection this strong in an unmarked image.
    pub p_value: Option<f64>,
    /// The payload with the geometry the detector measured, for recovery
    /// (not part of the report).
    #[serde(skip)]
    pub found: Option<Found>,
}

/// The invisible-watermark `dwtDct` mark that Stable Diffusion / SDXL embed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DwtDctSection {
    /// The mark was found.
    pub detected: bool,
    /// Which generator's message matched, when known.
    pub generator: Option<String>,
    /// The decoded message (hex), when detected.
    pub message: Option<String>,
    /// Fraction of bits that match the known message (0..1), if reported.
    pub match_ratio: Option<f64>,
    /// Probability that an unmarked image matches this well.
    pub p_value: Option<f64>,
}

/// What a metadata finding suggests, as the metadata reader judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// Made by a generator.
    Ai,
    /// Edited or composited with AI.
    AiEdited,
    /// Made by a camera or scanner.
    Capture,
    /// Processed with editing software.
    Edited,
    /// Neutral.
    Info,
}

/// One metadata trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataFinding {
    /// Where it was found, e.g. `PNG tEXt parameters`, `XMP Iptc4xmpExt:DigitalSourceType`.
    pub field: String,
    /// The value, shortened.
    pub value: String,
    /// The generator or device named, when known.
    pub generator: Option<String>,
    /// What it suggests.
    pub indicates: Hint,
}

/// Metadata traces (unverified: anyone can write them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetadataSection {
    /// Every trace found, in file order.
    pub findings: Vec<MetadataFinding>,
    /// The GB 45438-2025 implicit label's fields, when the file has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gb45438: Option<crate::media::metadata::AigcLabel>,
    /// Problems with GB 45438 labels (not JSON, duplicated, disagreeing,
    /// malformed: see `hallmark comply`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gb45438_issues: Vec<String>,
}

/// The pixel classifier.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassifierSection {
    /// Calibrated probability that the image is AI-generated, 0..1.
    pub score: f64,
    /// `ai`, `real` or `inconclusive`.
    pub label: String,
    /// The model's name, from its card.
    pub model: Option<String>,
    /// `photo` or `nonphoto` when the model has a domain rule (non-photo
    /// images need stronger evidence for `ai`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The short name of an IPTC digital source type IRI (its last segment).
pub fn source_type_name(iri: &str) -> &str {
    source_type::term_of(iri)
}

/// What a digital source type declares, from the one vocabulary table
/// ([`crate::media::source_type`]). Terms that say neither capture, edit
/// nor AI (digital art, screenshots) and unknown values are `Signed`:
/// signed, origin not one the verdict distinguishes.
pub fn source_type_indication(iri: &str) -> I {
    match source_type::origin(iri) {
        Some(Origin::AiGenerated) => I::Ai,
        Some(Origin::AiEdited) => I::AiEdited,
        Some(Origin::Capture) => I::Capture,
        Some(Origin::Edited) => I::Edited,
        _ => I::Signed,
    }
}

/// Evidence from the manifest section.
///
/// Strength: a valid signature chaining to the trust store is
/// cryptographic. A valid signature by an unknown signer is strong when it
/// declares AI (few forge a confession) but only medium when it declares a
/// camera or edits (exactly what a forger would claim). An invalid manifest
/// is strong evidence of tampering; a non-conformant binding (bytes outside
/// the manifest left unhashed, none shown to differ) is medium evidence
/// that the provenance is incomplete, never of tampering.
pub fn manifest_evidence(m: &ManifestSection) -> Vec<Evidence> {
    if !m.present {
        return Vec::new();
    }
    let signer = m.signer.as_deref().unwrap_or("an unnamed signer");
    if !m.valid && m.non_conformant {
        let why = m.failures.first().map(String::as_str).unwrap_or(
            "non-conformant binding: bytes outside the manifest are not covered by the signature",
        );
        return vec![Evidence::new(
            K::Manifest,
            S::Medium,
            I::NonConformant,
            format!("C2PA manifest by {signer} cannot be fully checked: {why}"),
        )
        .with_short(format!(
            "C2PA manifest by {signer} has a non-conformant binding"
        ))];
    }
    if !m.valid {
        let why = m
            .failures
            .first()
            .map(String::as_str)
            .unwrap_or("validation failed");
        let claimed = m
            .digital_source_type
            .as_deref()
            .map(|t| format!(" (it claims {})", source_type_name(t)))
            .unwrap_or_default();
        return vec![Evidence::new(
            K::Manifest,
            S::Strong,
            I::Tampered,
            format!("C2PA manifest by {signer} is invalid: {why}{claimed}"),
        )
        .with_short(format!("C2PA manifest by {signer} fails validation"))];
    }
    let SignedClaim {
        indication,
        strength,
        trust,
        declares,
    } = signed_claim(m.trusted, m.digital_source_type.as_deref());
    vec![Evidence::new(
        K::Manifest,
        strength,
        indication,
        format!("valid C2PA manifest signed by {signer} ({trust}) {declares}"),
    )
    .with_short(format!("signed C2PA manifest by {signer}, {trust}"))]
}

impl I {
    fn is_ai_claim(self) -> bool {
        matches!(self, I::Ai | I::AiEdited)
    }
}

/// Evidence from hallmark's watermark. With a valid manifest present the
/// watermark corroborates it (informational), saying whether it matches the
/// manifest's declared soft binding (`declared`); alone, it says the file
/// once carried Content Credentials that were stripped.
pub fn watermark_evidence(
    w: &WatermarkSection,
    manifest_valid: bool,
    declared: Option<&str>,
) -> Vec<Evidence> {
    if !w.detected {
        return Vec::new();
    }
    let payload = w.payload.as_deref().unwrap_or("?");
    let p = w
        .p_value
        .map(|p| format!(", false-positive probability {p:.1e}"))
        .unwrap_or_default();
    let (indication, detail, short) = match (manifest_valid, declared) {
        (true, Some(d)) if d == payload => (
            I::Info,
            format!(" matching the manifest's soft binding (durable Content Credentials){p}"),
            format!("payload {payload} matches the manifest"),
        ),
        (true, Some(d)) => (
            I::Info,
            format!(" that differs from the manifest's soft binding {d}{p}"),
            format!("payload {payload} differs from the manifest's {d}"),
        ),
        (true, None) => (I::Info, p, format!("payload {payload}")),
        (false, _) => (
            I::Watermarked,
            p,
            format!("payload {payload}; no manifest: look the payload up in your registry"),
        ),
    };
    vec![Evidence::new(
        K::Watermark,
        S::Strong,
        indication,
        format!("hallmark watermark with payload {payload}{detail}"),
    )
    .with_short(short)]
}

/// Evidence from the Stable Diffusion / SDXL invisible watermark.
pub fn dwtdct_evidence(d: &DwtDctSection) -> Vec<Evidence> {
    if !d.detected {
        return Vec::new();
    }
    let generator = d.generator.as_deref().unwrap_or("Stable Diffusion");
    vec![Evidence::new(
        K::Watermark,
        S::Strong,
        I::Ai,
        format!("{generator} invisible watermark (invisible-watermark dwtDct)"),
    )
    .with_short(format!("{generator} invisible watermark"))]
}

/// Evidence from metadata traces. AI and camera traces are medium (easy to
/// strip or forge); editing-software tags are weak; neutral ones are
/// informational.
pub fn metadata_evidence(m: &MetadataSection) -> Vec<Evidence> {
    m.findings
        .iter()
        .map(|f| {
            let (strength, indication) = match f.indicates {
                Hint::Ai => (S::Medium, I::Ai),
                Hint::AiEdited => (S::Medium, I::AiEdited),
                Hint::Capture => (S::Medium, I::Capture),
                Hint::Edited => (S::Weak, I::Edited),
                Hint::Info => (S::Weak, I::Info),
            };
            let finding = format!("{} = {}", f.field, one_line(&f.value, 160));
            let short = match (&f.generator, f.indicates) {
                (Some(g), Hint::Capture) => format!("{g} camera metadata"),
                (Some(g), _) => format!("{g} metadata"),
                (None, _) => format!("{} metadata", f.field),
            };
            Evidence::new(K::Metadata, strength, indication, finding).with_short(short)
        })
        .collect()
}

/// `s` on one line, shortened to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "..."
    }
}

/// Evidence from the classifier: always weak; `inconclusive` is informational.
pub fn classifier_evidence(c: &ClassifierSection) -> Vec<Evidence> {
    let indication = match c.label.as_str() {
        "ai" => I::Ai,
        "real" => I::NotAi,
        _ => I::Info,
    };
    let model = c
        .model
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    vec![Evidence::new(
        K::Classifier,
        S::Weak,
        indication,
        format!(
            "classifier{model}: probability AI-generated {:.2}, label {}{}",
            c.score,
            c.label,
            if c.domain.as_deref() == Some("nonphoto") {
                " (non-photo image: the stricter threshold applies)"
            } else {
                ""
            }
        ),
    )
    .with_short(format!("classifier {:.2}", c.score))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_types_map_by_last_segment() {
        let t = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
        assert_eq!(source_type_name(t), "trainedAlgorithmicMedia");
        assert_eq!(source_type_indication(t), I::Ai);
        assert_eq!(source_type_indication("digitalCapture"), I::Capture);
        assert_eq!(source_type_indication("digitalArt"), I::Signed);
        assert_eq!(source_type_indication("computationalCapture"), I::Capture);
        assert_eq!(source_type_indication("algorithmicallyEnhanced"), I::Edited);
        assert_eq!(source_type_indication("compositeSynthetic"), I::Edited);
    }

    #[test]
    fn untrusted_camera_claims_are_weaker_than_untrusted_ai_claims() {
        let mut m = ManifestSection {
            present: true,
            valid: true,
            signer: Some("X".into()),
            digital_source_type: Some("digitalCapture".into()),
            ..Default::default()
        };
        assert_eq!(manifest_evidence(&m)[0].strength, S::Medium);
        m.digital_source_type = Some("trainedAlgorithmicMedia".into());
        assert_eq!(manifest_evidence(&m)[0].strength, S::Strong);
        m.trusted = true;
        assert_eq!(manifest_evidence(&m)[0].strength, S::Cryptographic);
        m.valid = false;
        assert_eq!(manifest_evidence(&m)[0].indicates, I::Tampered);
    }

    #[test]
    fn sections_serialise_with_a_status_tag() {
        let s: Section<WatermarkSection> = Section::Ok(WatermarkSection::default());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["detected"], false);
        let u: Section<WatermarkSection> = Section::unavailable("not built");
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"status": "unavailable", "reason": "not built"})
        );
    }
}
