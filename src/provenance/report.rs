//! The manifest report: what `verify` found, as data (JSON via serde) and as
//! a short plain-language summary a journalist can read.
//!
//! Field names follow the CLI contract in DESIGN.md (`present`, `valid`,
//! `trusted`, `signer`, `digital_source_type`, ...); the CLI nests this
//! object under `manifest`, and so does the fused `check` report.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::labels;

/// The overall verdict on a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No manifest, embedded or sidecar.
    #[default]
    Absent,
    /// A manifest is there but fails validation.
    Invalid,
    /// The signature and hashes check out, but the hard binding leaves more
    /// than the manifest store unhashed (C2PA 2.4 section 15.12): not valid,
    /// and no evidence that anything changed.
    NonConformant,
    /// Valid, signed by a signer the trust store does not know.
    Valid,
    /// Valid and signed by a trusted signer.
    Trusted,
}

/// Where the manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Inside the image file.
    Embedded,
    /// From `FILE.c2pa` beside the image.
    Sidecar,
}

/// Who signed: the leaf certificate of the signature's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SignerReport {
    /// Certificate subject (RFC 4514 style).
    pub subject: String,
    /// Certificate issuer.
    pub issuer: String,
    /// Subject common name, if any.
    pub common_name: Option<String>,
    /// `SHA256:` + hex SHA-256 of the raw public key (as `keygen` prints).
    pub key_fingerprint: Option<String>,
    /// Hex SHA-256 of the leaf certificate (DER).
    pub cert_sha256: Option<String>,
    /// Validity start (RFC 2822 style as x509-parser prints it).
    pub not_before: Option<String>,
    /// Validity end.
    pub not_after: Option<String>,
    /// Signature algorithm as C2PA names it (e.g. `Ed25519`).
    pub algorithm: Option<String>,
    /// Number of certificates the signer presented.
    pub chain_length: usize,
}

/// One entry of `c2pa.actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ActionReport {
    /// The action, e.g. `c2pa.created`.
    pub action: String,
    /// Its IPTC digital source type URL, if stated.
    pub digital_source_type: Option<String>,
    /// The software that performed it.
    pub software_agent: Option<String>,
    /// When, as stated by the signer.
    pub when: Option<String>,
    /// The action's description, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A visible (explicit) AI label this action drew, as recorded by
    /// hallmark (`parameters."hallmark.explicit_label"`: text, corner,
    /// region, text height, contrast, who added it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_label: Option<Value>,
}

/// One ingredient, with its own manifest's facts and ingredients (the chain).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct IngredientReport {
    /// Title (usually the file name).
    pub title: Option<String>,
    /// `parentOf`, `componentOf` or `inputTo`.
    pub relationship: String,
    /// Media type.
    pub format: Option<String>,
    /// The ingredient's own manifest id, when it had one.
    pub manifest: Option<String>,
    /// Who signed the ingredient's manifest.
    pub signer: Option<String>,
    /// The ingredient manifest's generator.
    pub generator: Option<String>,
    /// The ingredient manifest's digital source type.
    pub digital_source_type: Option<String>,
    /// Validation failure codes recorded for the ingredient.
    pub failures: Vec<String>,
    /// Visible AI labels the ingredient's manifest records (see
    /// [`ActionReport::explicit_label`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explicit_labels: Vec<Value>,
    /// The ingredient's own ingredients.
    pub ingredients: Vec<IngredientReport>,
}

/// A validation status code with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StatusEntry {
    /// The C2PA validation status code, e.g. `assertion.dataHash.mismatch`.
    pub code: String,
    /// The validator's explanation.
    pub explanation: Option<String>,
}

/// C2PA validation status codes of the active manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StatusReport {
    /// Checks that passed.
    pub success: Vec<String>,
    /// Informational codes.
    pub informational: Vec<String>,
    /// Failures (an untrusted signer is a failure code but still valid).
    pub failure: Vec<StatusEntry>,
}

/// What `verify` reports about one file's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ManifestReport {
    /// A manifest was found (embedded or sidecar).
    pub present: bool,
    /// Signature, hard binding and structure all check out.
    pub valid: bool,
    /// Valid and the signer is in the trust store.
    pub trusted: bool,
    /// `absent`, `invalid`, `non_conformant`, `valid` or `trusted`.
    pub state: State,
    /// Embedded or sidecar.
    pub source: Option<Source>,
    /// The active manifest's id.
    pub label: Option<String>,
    /// Who signed.
    pub signer: Option<SignerReport>,
    /// Signing time from a timestamp authority, if any.
    pub signed_at: Option<String>,
    /// The software that wrote the manifest (claim generator).
    pub generator: Option<String>,
    /// Asset title.
    pub title: Option<String>,
    /// Creator(s) from the CreativeWork assertion.
    pub author: Option<String>,
    /// IPTC digital source type URL of the creating or editing action.
    pub digital_source_type: Option<String>,
    /// Whether the source type says generative AI was involved.
    pub ai_generated: bool,
    /// `c2pa.actions`, in order.
    pub actions: Vec<ActionReport>,
    /// Ingredients, each with its own chain.
    pub ingredients: Vec<IngredientReport>,
    /// The GB 45438-2025 `AIGC` label, when the manifest carries one.
    pub gb45438: Option<Value>,
    /// `c2pa.soft-binding` assertions (e.g. a watermark tying back here).
    pub soft_bindings: Vec<Value>,
    /// Validation status codes.
    pub status: StatusReport,
    /// Why it is invalid or absent, in plain words.
    pub reason: Option<String>,
    /// Damage found in the file's structure (truncated, corrupt), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
}

impl ManifestReport {
    /// The report for a file without any manifest.
    pub fn absent() -> Self {
        ManifestReport {
            reason: Some("no C2PA manifest in the file or beside it".into()),
            ..Self::default()
        }
    }

    /// A short plain-language summary, one fact per line.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let verdict = match self.state {
            State::Absent => "No Content Credentials (C2PA manifest) found.",
            State::Invalid => "INVALID: the Content Credentials do not match this file.",
            State::NonConformant => {
                "NOT VALID: the Content Credentials do not cover the whole file (non-conformant binding)."
            }
            State::Valid => "Valid Content Credentials, but the signer is not in your trust list.",
            State::Trusted => "Valid Content Credentials from a trusted signer.",
        };
        let _ = writeln!(s, "{verdict}");
        if let Some(r) = self
            .reason
            .as_deref()
            .filter(|_| self.state != State::Absent)
        {
            let _ = writeln!(s, "  Why:       {r}");
        }
        if !self.present {
            return s;
        }
        if let Some(sig) = &self.signer {
            let who = sig.common_name.as_deref().unwrap_or(&sig.subject);
            let _ = writeln!(s, "  Signed by: {who} (issued by {})", sig.issuer);
            if let Some(fp) = &sig.key_fingerprint {
                let _ = writeln!(s, "  Key:       {fp}");
            }
        }
        let when = self.signed_at.clone().or_else(|| {
            self.actions
                .iter()
                .find_map(|a| a.when.clone())
                .map(|w| format!("{w} (stated by the signer)"))
        });
        if let Some(w) = when {
            let _ = writeln!(s, "  When:      {w}");
        }
        if let Some(g) = &self.generator {
            let _ = writeln!(s, "  Tool:      {g}");
        }
        if let Some(a) = &self.author {
            let _ = writeln!(s, "  Author:    {a}");
        }
        if let Some(t) = &self.title {
            let _ = writeln!(s, "  Title:     {t}");
        }
        let origin = match &self.digital_source_type {
            Some(url) => labels::describe_source_type(url),
            None => "not stated".into(),
        };
        let ai = if self.ai_generated {
            "AI: yes"
        } else {
            "AI: not declared"
        };
        let _ = writeln!(s, "  Origin:    {origin} ({ai})");
        if self.gb45438.is_some() {
            let _ = writeln!(s, "  Label:     GB 45438-2025 AIGC label present");
        }
        for l in self
            .actions
            .iter()
            .filter_map(|a| a.explicit_label.as_ref())
        {
            let text = l.get("text").and_then(Value::as_str).unwrap_or("?");
            let who = l.get("added_by").and_then(Value::as_str).unwrap_or("?");
            let _ = writeln!(s, "  Visible:   AI label \"{text}\" drawn, added by {who}");
        }
        if !self.actions.is_empty() {
            let list: Vec<&str> = self.actions.iter().map(|a| a.action.as_str()).collect();
            let _ = writeln!(s, "  Actions:   {}", list.join(", "));
        }
        for ing in &self.ingredients {
            write_ingredient(&mut s, ing, 1);
        }
        s
    }
}

fn write_ingredient(s: &mut String, ing: &IngredientReport, depth: usize) {
    let indent = "  ".repeat(depth);
    let title = ing.title.as_deref().unwrap_or("(untitled)");
    let signed = match (&ing.manifest, &ing.signer) {
        (Some(_), Some(who)) => format!("signed by {who}"),
        (Some(_), None) => "has a manifest".into(),
        _ => "no manifest".into(),
    };
    let bad = if ing.failures.is_empty() {
        String::new()
    } else {
        format!(", problems: {}", ing.failures.join(", "))
    };
    let _ = writeln!(
        s,
        "{indent}Made from: {title} ({}, {signed}{bad})",
        ing.relationship
    );
    for sub in &ing.ingredients {
        write_ingredient(s, sub, depth + 1);
    }
}
