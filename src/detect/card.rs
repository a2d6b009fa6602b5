//! Model cards: parsing, validation, the model file's hash, and finding the
//! default model.
//!
//! The card format is specified in `models/CARD.md`; this file implements it
//! exactly. A card that the runtime cannot follow to the letter is refused
//! at load time with the field that is wrong, never at scoring time.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The environment variable naming the model to use when `--model` is absent.
pub const MODEL_ENV: &str = "HALLMARK_MODEL";

/// A model card: how to feed a classifier and read its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Model name (reported with every score).
    pub name: String,
    /// Model version (reported with every score).
    pub version: String,
    /// The ONNX file, relative to the card's folder.
    pub file: String,
    /// Lowercase hex SHA-256 of the ONNX file.
    pub sha256: String,
    /// Input tensor and normalisation.
    pub input: InputSpec,
    /// Output tensor.
    pub output: OutputSpec,
    /// Crop grid.
    pub crop: CropSpec,
    /// How crop logits become one.
    pub aggregation: Aggregation,
    /// Logit -> probability.
    pub calibration: Calibration,
    /// Probability -> label.
    pub thresholds: Thresholds,
    /// Must be `["real", "ai"]`.
    pub labels: Vec<String>,
    /// Training provenance (free-form, kept as is).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Held-out evaluation (free-form, kept as is).
    #[serde(default)]
    pub evaluation: serde_json::Value,
}

/// The model's input tensor and pixel normalisation:
/// `x = (pixel / scale - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Graph input name.
    pub name: String,
    /// Only `NCHW`.
    pub layout: String,
    /// Only `RGB`.
    pub channels: String,
    /// Only `float32`.
    pub dtype: String,
    /// Pixel divisor (255.0 for 0..1 inputs).
    pub scale: f32,
    /// Per-channel mean, after scaling.
    pub mean: [f32; 3],
    /// Per-channel standard deviation, after scaling.
    pub std: [f32; 3],
}

/// The model's output tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    /// Graph output name.
    pub name: String,
    /// Only `logit`: one logit per crop, higher = more AI.
    pub kind: String,
}

/// The crop grid: S x S crops at native resolution, at most K of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CropSpec {
    /// Crop side S, in pixels.
    pub size: u32,
    /// At most this many crops per image.
    pub max_crops: u32,
    /// Only `grid`.
    pub policy: String,
    /// Images with a side shorter than this are not scored.
    pub min_side: u32,
    /// How crops that stick out of a small image are filled.
    pub pad: Pad,
}

/// Padding for images smaller than the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pad {
    /// Pixel value 0 (before normalisation).
    Zero,
    /// Mirror without repeating the edge (`numpy.pad(mode="reflect")`).
    Reflect,
}

/// How the crop logits of one image become one logit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Arithmetic mean.
    MeanLogit,
    /// Median (mean of the two middle values for an even count).
    MedianLogit,
    /// Maximum.
    MaxLogit,
}

/// Platt scaling: `p_ai = sigmoid(a * logit + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Only `platt`.
    pub method: String,
    /// Slope.
    pub a: f64,
    /// Intercept.
    pub b: f64,
}

/// `p >= ai` -> ai; `p <= real` -> real; otherwise inconclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Lower bound of the `ai` label.
    pub ai: f64,
    /// Upper bound of the `real` label.
    pub real: f64,
}

fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::Model(format!("model card: `{field}` {why}"))
}

impl ModelCard {
    /// Parse and validate a card from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let card: ModelCard = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("model card is not valid: {e}")))?;
        card.validate()?;
        Ok(card)
    }

    /// Read, parse and validate a card file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Check every field the runtime relies on (see `models/CARD.md`).
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(bad("name", "is empty"));
        }
        if self.version.trim().is_empty() {
            return Err(bad("version", "is empty"));
        }
        if self.file.trim().is_empty() {
            return Err(bad("file", "is empty"));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("sha256", "is not 64 hex digits"));
        }
        let i = &self.input;
        if i.name.is_empty() {
            return Err(bad("input.name", "is empty"));
        }
        if i.layout != "NCHW" {
            return Err(bad(
                "input.layout",
                format!("is {:?}; only \"NCHW\" is supported", i.layout),
            ));
        }
        if i.channels != "RGB" {
            return Err(bad(
                "input.channels",
                format!("is {:?}; only \"RGB\" is supported", i.channels),
            ));
        }
        if i.dtype != "float32" {
            return Err(bad(
                "input.dtype",
                format!("is {:?}; only \"float32\" is supported", i.dtype),
            ));
        }
        if !(i.scale.is_finite() && i.scale > 0.0) {
            return Err(bad("input.scale", "must be a positive number"));
        }
        if !i.mean.iter().all(|m| m.is_finite()) {
            return Err(bad("input.mean", "must be finite"));
        }
        if !i.std.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(bad("input.std", "must be positive numbers"));
        }
        if self.output.name.is_empty() {
            return Err(bad("output.name", "is empty"));
        }
        if self.output.kind != "logit" {
            return Err(bad(
                "output.kind",
                format!("is {:?}; only \"logit\" is supported", self.output.kind),
            ));
        }
        let c = &self.crop;
        if c.size == 0 || c.size > 8192 {
            return Err(bad("crop.size", "must be between 1 and 8192"));
        }
        if c.max_crops == 0 || c.max_crops > 1024 {
            return Err(bad("crop.max_crops", "must be between 1 and 1024"));
        }
        if c.policy != "grid" {
            return Err(bad(
                "crop.policy",
                format!("is {:?}; only \"grid\" is supported", c.policy),
            ));
        }
        if c.min_side == 0 {
            return Err(bad("crop.min_side", "must be at least 1"));
        }
        let cal = &self.calibration;
        if cal.method != "platt" {
            return Err(bad(
                "calibration.method",
                format!("is {:?}; only \"platt\" is supported", cal.method),
            ));
        }
        if !(cal.a.is_finite() && cal.b.is_finite()) {
            return Err(bad("calibration", "a and b must be finite"));
        }
        let t = &self.thresholds;
        if !(t.real.is_finite()
            && t.ai.is_finite()
            && 0.0 <= t.real
            && t.real <= t.ai
            && t.ai <= 1.0)
        {
            return Err(bad("thresholds", "must satisfy 0 <= real <= ai <= 1"));
        }
        if self.labels != ["real", "ai"] {
            return Err(bad("labels", "must be [\"real\", \"ai\"]"));
        }
        Ok(())
    }
}

/// A card on disk together with the folder its `file` is relative to.
#[derive(Debug, Clone)]
pub struct CardFile {
    /// The parsed, validated card.
    pub card: ModelCard,
    /// Where the card was read from.
    pub path: PathBuf,
}

impl CardFile {
    /// Read a card file.
    pub fn read(path: &Path) -> Result<Self> {
        Ok(CardFile {
            card: ModelCard::from_file(path)?,
            path: path.to_path_buf(),
        })
    }

    /// The ONNX file the card names.
    pub fn model_path(&self) -> PathBuf {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        dir.join(&self.card.file)
    }

    /// Read the ONNX file and check its SHA-256 against the card.
    pub fn read_verified_model(&self) -> Result<Vec<u8>> {
        let path = self.model_path();
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(&self.card.sha256) {
            return Err(Error::Model(format!(
                "{}: SHA-256 mismatch: the card {} says {}, the file is {actual}; \
                 the model file was changed or the card is stale",
                path.display(),
                self.path.display(),
                self.card.sha256
            )));
        }
        Ok(bytes)
    }
}

/// Lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Deserialize)]
struct Pointer {
    card: String,
}

/// Resolve what a user named as the model to a card file.
///
/// `spec` may be a card (`*.card.json`), a pointer file like
/// `models/default.json` (`{"card": "..."}`), an ONNX file (its card is
/// `<stem>.card.json` beside it), or a folder holding `default.json`.
pub fn resolve_card(spec: &Path) -> Result<PathBuf> {
    if spec.is_dir() {
        return resolve_pointer(&spec.join("default.json"));
    }
    let name = spec
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".card.json") {
        if !spec.is_file() {
            return Err(Error::Model(format!(
                "model card {} does not exist",
                spec.display()
            )));
        }
        return Ok(spec.to_path_buf());
    }
    if name.ends_with(".json") {
        return resolve_pointer(spec);
    }
    if name.ends_with(".onnx") {
        let card = spec.with_file_name(format!("{}.card.json", name.trim_end_matches(".onnx")));
        if !card.is_file() {
            return Err(Error::Model(format!(
                "model {} has no card: expected {}",
                spec.display(),
                card.display()
            )));
        }
        return Ok(card);
    }
    Err(Error::Model(format!(
        "{}: expected a model card (*.card.json), models/default.json, an .onnx file or a folder",
        spec.display()
    )))
}

fn resolve_pointer(path: &Path) -> Result<PathBuf> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    if text.contains("\"sha256\"") {
        // Someone pointed us at a card that lacks the `.card.json` suffix.
        return Ok(path.to_path_buf());
    }
    let p: Pointer = serde_json::from_str(&text).map_err(|e| {
        Error::Model(format!(
            "{}: expected {{\"card\": \"NAME.card.json\"}}: {e}",
            path.display()
        ))
    })?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let card = dir.join(p.card);
    if !card.is_file() {
        return Err(Error::Model(format!(
            "{} names card {}, which does not exist",
            path.display(),
            card.display()
        )));
    }
    Ok(card)
}

/// Where the default model is looked for, in order (see [`find_model`]).
pub fn default_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        let exe = exe.canonicalize().unwrap_or(exe);
        for dir in exe.ancestors().skip(1) {
            out.push(dir.join("models").join("default.json"));
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        out.push(cwd.join("models").join("default.json"));
    }
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join("default.json"),
    );
    out
}

/// Find the model card to use: `explicit` (`--model`), else the
/// `HALLMARK_MODEL` environment variable, else the first existing
/// `models/default.json` among [`default_candidates`].
pub fn find_model(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(spec) = explicit {
        return resolve_card(spec);
    }
    if let Some(env) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
        return resolve_card(Path::new(&env))
            .map_err(|e| Error::Model(format!("{MODEL_ENV}: {e}")));
    }
    let candidates = default_candidates();
    for c in &candidates {
        if c.is_file() {
            return resolve_pointer(c);
        }
    }
    Err(Error::Model(format!(
        "no model found: pass --model, set {MODEL_ENV}, or install models/default.json \
         (looked beside the executable, in the current folder and in {})",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .display()
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_json() -> serde_json::Value {
        serde_json::json!({
            "name": "t", "version": "1", "file": "t.onnx", "sha256": "0".repeat(64),
            "input": {"name": "x", "layout": "NCHW", "channels": "RGB", "dtype": "float32",
                      "scale": 255.0, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            "output": {"name": "y", "kind": "logit"},
            "crop": {"size": 8, "max_crops": 4, "policy": "grid", "min_side": 2, "pad": "zero"},
            "aggregation": "mean_logit",
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
            "thresholds": {"ai": 0.8, "real": 0.2},
            "labels": ["real", "ai"],
            "training": {"note": "kept"}
        })
    }

    #[test]
    fn parses_a_good_card_and_keeps_free_form_fields() {
        let card = ModelCard::from_json(&sample_json().to_string()).unwrap();
        assert_eq!(card.crop.pad, Pad::Zero);
        assert_eq!(card.aggregation, Aggregation::MeanLogit);
        assert_eq!(card.training["note"], "kept");
    }

    #[test]
    fn refuses_each_unsupported_value_naming_the_field() {
        let cases: &[(&str, serde_json::Value, &str)] = &[
            ("/input/layout", "NHWC".into(), "input.layout"),
            ("/input/channels", "BGR".into(), "input.channels"),
            ("/input/dtype", "float16".into(), "input.dtype"),
            ("/input/scale", 0.0.into(), "input.scale"),
            (
                "/input/std",
                serde_json::json!([1.0, 0.0, 1.0]),
                "input.std",
            ),
            ("/output/kind", "probability".into(), "output.kind"),
            ("/crop/size", 0.into(), "crop.size"),
            ("/crop/max_crops", 0.into(), "crop.max_crops"),
            ("/crop/policy", "random".into(), "crop.policy"),
            ("/crop/min_side", 0.into(), "crop.min_side"),
            (
                "/calibration/method",
                "isotonic".into(),
                "calibration.method",
            ),
            ("/thresholds/real", 0.9.into(), "thresholds"),
            ("/labels", serde_json::json!(["ai", "real"]), "labels"),
            ("/sha256", "abc".into(), "sha256"),
            ("/name", "".into(), "name"),
        ];
        for (ptr, value, field) in cases {
            let mut j = sample_json();
            *j.pointer_mut(ptr).unwrap() = value.clone();
            let err = ModelCard::from_json(&j.to_string())
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{ptr}: {err}");
        }
        for (ptr, value) in [("/crop/pad", "edge"), ("/aggregation", "mode")] {
            let mut j = sample_json();
            *j.pointer_mut(ptr).unwrap() = value.into();
            assert!(ModelCard::from_json(&j.to_string()).is_err(), "{ptr}");
        }
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_vector() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn resolves_cards_pointers_onnx_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("m.card.json");
        std::fs::write(&card, sample_json().to_string()).unwrap();
        std::fs::write(dir.path().join("m.onnx"), b"x").unwrap();
        std::fs::write(
            dir.path().join("default.json"),
            r#"{"card": "m.card.json"}"#,
        )
        .unwrap();
        assert_eq!(resolve_card(&card).unwrap(), card);
        assert_eq!(resolve_card(&dir.path().join("m.onnx")).unwrap(), card);
        assert_eq!(
            resolve_card(&dir.path().join("default.json")).unwrap(),
            card
        );
        assert_eq!(resolve_card(dir.path()).unwrap(), card);
        assert!(resolve_card(&dir.path().join("other.onnx")).is_err());
        assert!(resolve_card(&dir.path().join("m.txt")).is_err());
    }
}
