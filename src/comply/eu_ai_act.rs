//! EU AI Act (Regulation (EU) 2024/1689), Article 50, for an image:
//!
//! - 50(2) machine-readable marking (required): the output of a generative
//!   system is marked in a machine-readable format and detectable as
//!   artificially generated. The accepted technical means are a signed
//!   C2PA manifest declaring an IPTC AI digital source type, and a
//!   watermark; a valid manifest (the active one, or the parent a
//!   platform kept) or a detected watermark meets it. Unsigned metadata
//!   (an XMP DigitalSourceType, a GB 45438 label) is named but does not
//!   meet it alone: it is neither robust nor reliable (anyone strips or
//!   writes it).
//! - interoperable metadata (recommended): IPTC's own XMP field
//!   `Iptc4xmpExt:DigitalSourceType` declaring AI, which non-C2PA readers
//!   and upload pipelines read.
//! - 50(4) deep-fake disclosure (recommended here: whether an image is a
//!   deep fake is not something a file says): a visible disclosure
//!   recorded in a valid manifest.

use super::evidence::{Evidence, Marks};
use super::{Obligation, Rule, RuleReport};
use crate::media::metadata::Indicates;
use crate::provenance::labels::describe_source_type;

/// Judge a file against Art. 50.
pub fn check(e: &Evidence) -> RuleReport {
    RuleReport::new(Rule::EuAiAct, vec![marking(e), iptc_xmp(e), disclosure(e)])
}

fn marking(e: &Evidence) -> Obligation {
    let o = Obligation::required(
        "machine-readable-marking",
        "EU AI Act Art. 50(2)",
        "marked as AI-generated in a machine-readable, detectable way (C2PA manifest or watermark)",
    );
    if let Some((st, by)) = e.declared_ai() {
        return o.met(format!(
            "{by} declares {} ({st})",
            describe_source_type(&st)
        ));
    }
    let mut why = vec![manifest_shortfall(e)];
    match e.marks() {
        Marks::Checked(found) if !found.is_empty() => {
            let list: Vec<&str> = found.iter().map(|m| m.what.as_str()).collect();
            return o.met(format!("watermark detected: {}", list.join("; ")));
        }
        Marks::Checked(_) => why.push("no watermark detected".into()),
        Marks::NotChecked(reason) => why.push(format!("watermark not checked ({reason})")),
    }
    if e.metadata.indicates_ai() {
        why.push(
            "the file's unsigned metadata says AI, but metadata alone is neither robust nor reliable"
                .into(),
        );
    }
    o.failed(why.join("; "))
}

/// Why the manifest does not meet 50(2).
fn manifest_shortfall(e: &Evidence) -> String {
    let m = &e.manifest;
    if !m.present {
        return "no C2PA manifest".into();
    }
    if !m.valid {
        return format!(
            "the C2PA manifest is not valid ({})",
            m.reason.as_deref().unwrap_or("validation failed")
        );
    }
    match &m.digital_source_type {
        Some(st) => format!(
            "the valid manifest declares {} ({st}), not AI",
            describe_source_type(st)
        ),
        None => "the valid manifest declares no digital source type".into(),
    }
}

fn iptc_xmp(e: &Evidence) -> Obligation {
    let o = Obligation::recommended(
        "iptc-digital-source-type",
        "EU AI Act Art. 50(2) (interoperability)",
        "IPTC DigitalSourceType in the file's XMP declares AI",
    );
    let found = e
        .metadata
        .findings
        .iter()
        .find(|f| f.field.ends_with("DigitalSourceType") && f.field.contains("XMP"));
    match found {
        Some(f) if f.indicates.is_ai() => o.met(format!("{} = {}", f.field, f.value)),
        Some(f) if f.indicates == Indicates::Unknown => {
            o.failed(format!("{} = {} (not an AI term)", f.field, f.value))
        }
        Some(f) => o.failed(format!("{} = {} (not AI)", f.field, f.value)),
        None => o.failed("no Iptc4xmpExt:DigitalSourceType in the file's XMP"),
    }
}

fn disclosure(e: &Evidence) -> Obligation {
    let o = Obligation::recommended(
        "deep-fake-disclosure",
        "EU AI Act Art. 50(4)",
        "visible disclosure (required of deployers when the image is a deep fake)",
    );
    match e.explicit_labels().first() {
        Some((l, by)) => o.met(format!(
            "visible label \"{}\" recorded in {by}",
            l.get("text").and_then(|v| v.as_str()).unwrap_or("?")
        )),
        None => o.failed("no visible disclosure is recorded in a valid manifest"),
    }
}
