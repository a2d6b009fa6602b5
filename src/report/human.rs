//! The human form of a report: a headline a journalist can quote, then the
//! evidence strongest first, conflicts, and what could not be checked.

use std::fmt::Write;

use super::{Indication, Report};

/// Render a report as a few lines of plain text (ends with a newline).
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.file);
    let _ = writeln!(s, "  {}", r.summary);
    // Informational traces (a comment, a JUMBF box) are in the JSON only.
    let shown: Vec<_> = r
        .evidence
        .iter()
        .filter(|e| e.indicates != Indication::Info)
        .collect();
    let hidden = r.evidence.len() - shown.len();
    if !shown.is_empty() {
        let _ = writeln!(s, "  evidence, strongest first:");
        for e in shown {
            let kind = serde_plain(&e.kind);
            let _ = writeln!(
                s,
                "    {:<13} {:<10} {}",
                e.strength.as_str(),
                kind,
                e.finding
            );
        }
    }
    if hidden > 0 {
        let plural = if hidden == 1 { "" } else { "s" };
        let _ = writeln!(s, "  ({hidden} informational trace{plural}: see --json)");
    }
    if !r.conflicts.is_empty() {
        let _ = writeln!(s, "  conflicts (evidence against the verdict):");
        for c in &r.conflicts {
            let _ = writeln!(s, "    ! {c}");
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(s, "  warnings:");
        for w in &r.warnings {
            let _ = writeln!(s, "    ! {w}");
        }
    }
    let missing = r.missing_sections();
    if !missing.is_empty() {
        let _ = writeln!(s, "  not checked:");
        for (name, why) in missing {
            let _ = writeln!(s, "    {name:<10} {why}");
        }
    }
    if r.manifest.ok().is_some_and(|m| m.present) {
        let _ = writeln!(s, "  trust store: {}", r.trust_store);
    }
    s
}

fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
