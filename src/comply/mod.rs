//! Compliance reports: which obligations of AI-labelling law a file meets,
//! which it fails, and why.
//!
//! | rule | file | obligations |
//! |---|---|---|
//! | `gb45438` | [`gb45438`] | implicit XMP label, explicit (visible) label, signed label |
//! | `eu-ai-act` | [`eu_ai_act`] | Art. 50(2) machine-readable marking, IPTC XMP source type, Art. 50(4) disclosure |
//!
//! Each obligation is `required` (it decides compliance) or recommended
//! (reported, not decisive). The rules sit above the engines and judge
//! what the library's own readers found ([`evidence`]): the manifest as
//! `verify` verifies it, the metadata as `check` reads it, the watermarks
//! as `watermark detect` finds them; nothing is checked a second way.
//!
//! What a file can show is limited: metadata is a claim anyone can write
//! or strip, and a visible label is only known when a valid manifest
//! records it (no text is read from pixels). A compliant report says the
//! file carries the marks the rules ask for, not who is legally obliged.

pub mod eu_ai_act;
pub mod evidence;
pub mod gb45438;

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

pub use evidence::Evidence;

use crate::error::{Error, Result};
use crate::keys::TrustStore;
use crate::media::Limits;
use crate::provenance::Verifier;

/// A rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// GB 45438-2025 (China).
    Gb45438,
    /// EU AI Act Art. 50.
    EuAiAct,
}

impl Rule {
    /// Every rule, with its command-line name.
    pub const ALL: [(Rule, &'static str); 2] =
        [(Rule::Gb45438, "gb45438"), (Rule::EuAiAct, "eu-ai-act")];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Gb45438 => "gb45438",
            Rule::EuAiAct => "eu-ai-act",
        }
    }

    /// The rule's title.
    pub fn title(self) -> &'static str {
        match self {
            Rule::Gb45438 => "GB 45438-2025 (China: labelling AI-generated content)",
            Rule::EuAiAct => "EU AI Act Art. 50 (transparency of AI-generated content)",
        }
    }

    /// Parse a comma-separated list (`gb45438,eu-ai-act`).
    pub fn parse_list(list: &str) -> Result<Vec<Rule>> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let rule = Self::ALL
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|(r, _)| *r)
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "unknown rule {name:?}; use gb45438, eu-ai-act or both"
                    ))
                })?;
            if !out.contains(&rule) {
                out.push(rule);
            }
        }
        if out.is_empty() {
            return Err(Error::InvalidInput("no rule given".into()));
        }
        Ok(out)
    }
}

/// Met or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The file meets it.
    Met,
    /// The file does not.
    Failed,
}

/// One obligation and how the file fares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Obligation {
    /// Stable id (`implicit-label`).
    pub id: &'static str,
    /// Where the obligation comes from.
    pub source: &'static str,
    /// What it asks, in words.
    pub title: &'static str,
    /// Whether it decides compliance.
    pub required: bool,
    /// Met or failed.
    pub status: Status,
    /// What was found, or why it fails.
    pub why: String,
}

impl Obligation {
    fn new(id: &'static str, source: &'static str, title: &'static str, required: bool) -> Self {
        Obligation {
            id,
            source,
            title,
            required,
            status: Status::Failed,
            why: String::new(),
        }
    }

    pub(crate) fn required(id: &'static str, source: &'static str, title: &'static str) -> Self {
        Self::new(id, source, title, true)
    }

    pub(crate) fn recommended(id: &'static str, source: &'static str, title: &'static str) -> Self {
        Self::new(id, source, title, false)
    }

    pub(crate) fn met(mut self, why: impl Into<String>) -> Self {
        self.status = Status::Met;
        self.why = why.into();
        self
    }

    pub(crate) fn failed(mut self, why: impl Into<String>) -> Self {
        self.status = Status::Failed;
        self.why = why.into();
        self
    }
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleReport {
    /// The rule.
    pub rule: Rule,
    /// Its title.
    pub title: &'static str,
    /// Every required obligation is met.
    pub compliant: bool,
    /// The obligations, required first.
    pub obligations: Vec<Obligation>,
}

impl RuleReport {
    pub(crate) fn new(rule: Rule, mut obligations: Vec<Obligation>) -> Self {
        obligations.sort_by_key(|o| !o.required);
        RuleReport {
            rule,
            title: rule.title(),
            compliant: obligations
                .iter()
                .all(|o| !o.required || o.status == Status::Met),
            obligations,
        }
    }
}

/// A file's compliance report (`hallmark comply --json`, one per file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// The file.
    pub file: String,
    /// Compliant with every rule asked.
    pub compliant: bool,
    /// Per rule.
    pub rules: Vec<RuleReport>,
}

impl FileReport {
    /// A few lines for a person (ends with a newline).
    pub fn human(&self) -> String {
        let mut s = String::new();
        let verdict = if self.compliant {
            "compliant"
        } else {
            "NOT compliant"
        };
        let _ = writeln!(s, "{}: {verdict}", self.file);
        for r in &self.rules {
            let v = if r.compliant {
                "compliant"
            } else {
                "NOT compliant"
            };
            let _ = writeln!(s, "  {}: {v}", r.title);
            for o in &r.obligations {
                let mark = match (o.status, o.required) {
                    (Status::Met, _) => "met   ",
                    (Status::Failed, true) => "FAILED",
                    (Status::Failed, false) => "advice",
                };
                let _ = writeln!(s, "    {mark} {:<26} {}", o.id, o.why);
            }
        }
        s
    }
}

/// Checks files against rules; build once.
#[derive(Debug)]
pub struct Complier {
    verifier: Verifier,
    limits: Limits,
}

impl Complier {
    /// A checker trusting `trust` (trust only affects what the report says
    /// of the signer; validity is what the rules need).
    pub fn new(trust: &TrustStore) -> Result<Self> {
        Ok(Complier {
            verifier: Verifier::new(trust)?,
            limits: Limits::default(),
        })
    }

    /// Judge one file against `rules`.
    pub fn check_path(&self, path: &Path, rules: &[Rule]) -> Result<FileReport> {
        let e = Evidence::gather(path, &self.verifier, &self.limits)?;
        Ok(judge(&path.display().to_string(), &e, rules))
    }
}

/// Judge an upload (bytes in memory, no sidecar) named `name` against
/// `rules`: what `hallmark serve` answers on `POST /v1/comply`.
pub fn check_bytes(
    name: &str,
    bytes: Vec<u8>,
    verifier: &Verifier,
    limits: &Limits,
    rules: &[Rule],
) -> Result<FileReport> {
    let e = Evidence::from_bytes(bytes, verifier, limits)?;
    Ok(judge(name, &e, rules))
}

/// Judge gathered evidence against `rules`.
pub fn judge(file: &str, e: &Evidence, rules: &[Rule]) -> FileReport {
    let rules: Vec<RuleReport> = rules
        .iter()
        .map(|r| match r {
            Rule::Gb45438 => gb45438::check(e),
            Rule::EuAiAct => eu_ai_act::check(e),
        })
        .collect();
    FileReport {
        file: file.to_string(),
        compliant: rules.iter().all(|r| r.compliant),
        rules,
    }
}
