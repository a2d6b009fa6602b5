//! Hard-binding location check: a data hash's exclusion ranges must be
//! exactly where the manifest store sits in the file.
//!
//! A `c2pa.hash.data` assertion hashes the whole file except its exclusion
//! ranges, which exist to skip the manifest store's own bytes. c2pa 0.90.22
//! applies the declared exclusions verbatim. When the manifest is supplied
//! from outside the file (a sidecar), an attacker can therefore take a signed
//! file, overwrite exactly its excluded range with other content, hand the
//! original manifest beside it, and the SDK reports it valid. Upstream fixed
//! this in 0.92 (c2pa-rs PRs 2643 and 2653, C2PA 2.x "validating a data
//! hash": the excluded bytes must consist only of the manifest store). We
//! close it here: every non-empty exclusion must equal one of the store
//! ranges found by our own container walk ([`crate::media::container`]), and
//! a sidecar manifest (no store in the file) may have no non-empty exclusion.
//!
//! Two kinds of failure are told apart, because they mean different things:
//! an exclusion where the file has no store means bytes were replaced
//! ([`Problem::Mismatch`], reported as `assertion.dataHash.mismatch`); an
//! exclusion that covers the store *and more* (some camera SDKs exclude from
//! byte 0, leaving the header and EXIF unhashed) is a non-conformant binding
//! ([`Problem::NonConformant`], C2PA 2.4 section 15.12): invalid, since those
//! bytes are unprotected, but no evidence that anything changed.

use std::ops::Range;

use serde_json::Value;

/// Validation status code reported when the check fails (the code C2PA
/// defines for it).
pub const MISMATCH_CODE: &str = "assertion.dataHash.mismatch";

/// Status code hallmark reports for a non-conformant binding (C2PA defines
/// none for it; the `hallmark.` prefix says it is ours).
pub const NON_CONFORMANT_CODE: &str = "hallmark.dataHash.nonConformantExclusion";

/// One declared exclusion, as `start..start+length`.
pub type Exclusion = Range<u64>;

/// The exclusions of every `c2pa.hash.data` assertion of the active manifest,
/// read from the SDK's detailed report JSON (`manifests.<label>.assertion_store`).
/// `None` when the manifest has no data hash (e.g. a BMFF or box hash).
pub fn data_hash_exclusions(detailed: &Value, active_label: &str) -> Option<Vec<Exclusion>> {
    let store = detailed
        .get("manifests")?
        .get(active_label)?
        .get("assertion_store")?
        .as_object()?;
    let mut found = false;
    let mut out = Vec::new();
    for (label, assertion) in store {
        if !(label == "c2pa.hash.data" || label.starts_with("c2pa.hash.data__")) {
            continue;
        }
        found = true;
        let Some(list) = assertion.get("exclusions").and_then(Value::as_array) else {
            continue;
        };
        for ex in list {
            let start = ex.get("start").and_then(Value::as_u64).unwrap_or(0);
            let length = ex.get("length").and_then(Value::as_u64).unwrap_or(0);
            out.push(start..start.saturating_add(length));
        }
    }
    found.then_some(out)
}

/// Why a data hash's exclusions do not sit exactly on the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Every excluded range covers the store, but some also cover bytes
    /// that are not the store: the signer excluded too much, so those bytes
    /// are not protected by the signature (a non-conformant binding, C2PA
    /// 2.4 section 15.12). Nothing shows that any hashed byte changed.
    NonConformant {
        /// The excluded bytes outside the store.
        unprotected: Vec<Range<u64>>,
    },
    /// An exclusion lies where the file has no store (its bytes were
    /// replaced: the exploit the upstream fix closes) or past the end of
    /// the file. The reason, in words.
    Mismatch(String),
}

/// Check exclusions against where the store really is.
pub fn check(
    exclusions: &[Exclusion],
    store_ranges: &[Range<u64>],
    file_len: u64,
) -> Result<(), Problem> {
    let mut unprotected = Vec::new();
    for ex in exclusions.iter().filter(|e| e.end > e.start) {
        if ex.end > file_len {
            return Err(Problem::Mismatch(format!(
                "the data hash excludes bytes {}..{} but the file has only {file_len} bytes",
                ex.start, ex.end
            )));
        }
        if store_ranges.iter().any(|r| r == ex) {
            continue;
        }
        let inside: Vec<&Range<u64>> = store_ranges
            .iter()
            .filter(|r| r.start >= ex.start && r.end <= ex.end)
            .collect();
        if inside.is_empty() {
            return Err(Problem::Mismatch(if store_ranges.is_empty() {
                format!(
                    "the data hash excludes bytes {}..{} but the file carries no manifest there: \
                     those bytes were changed or replaced",
                    ex.start, ex.end
                )
            } else {
                format!(
                    "the data hash excludes bytes {}..{} but the manifest store sits at {}: \
                     those bytes were changed or replaced",
                    ex.start,
                    ex.end,
                    describe(store_ranges)
                )
            }));
        }
        // The exclusion minus the store pieces inside it.
        let mut at = ex.start;
        for r in inside {
            if r.start > at {
                unprotected.push(at..r.start);
            }
            at = at.max(r.end);
        }
        if at < ex.end {
            unprotected.push(at..ex.end);
        }
    }
    if unprotected.is_empty() {
        Ok(())
    } else {
        Err(Problem::NonConformant { unprotected })
    }
}

/// Byte ranges as `a..b, c..d`.
pub fn describe(ranges: &[Range<u64>]) -> String {
    ranges
        .iter()
        .map(|r| format!("{}..{}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
// One-element lists of byte ranges are the point of these tests.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_passes_and_anything_else_fails() {
        assert!(check(&[10..50], &[10..50], 100).is_ok());
        assert!(check(&[], &[], 100).is_ok());
        assert!(
            check(&[20..20], &[], 100).is_ok(),
            "zero-length exclusions are harmless"
        );
        assert!(matches!(
            check(&[10..50], &[], 100),
            Err(Problem::Mismatch(m)) if m.contains("no manifest")
        ));
        assert!(matches!(
            check(&[10..50, 60..70], &[10..50], 100),
            Err(Problem::Mismatch(_))
        ));
        assert!(matches!(
            check(&[90..150], &[90..150], 100),
            Err(Problem::Mismatch(_))
        ));
    }

    /// The Truepic Lens shape: one exclusion from byte 0 to the end of the
    /// store leaves the header and EXIF unprotected, the pixels hashed.
    #[test]
    fn an_exclusion_wider_than_the_store_is_non_conformant() {
        assert_eq!(
            check(&[0..206_316], &[13_617..206_316], 2_261_231),
            Err(Problem::NonConformant {
                unprotected: vec![0..13_617]
            })
        );
        assert_eq!(
            check(&[5..60], &[10..50], 100),
            Err(Problem::NonConformant {
                unprotected: vec![5..10, 50..60]
            })
        );
    }

    #[test]
    fn reads_exclusions_from_the_detailed_report() {
        let v = serde_json::json!({
            "manifests": { "urn:x": { "assertion_store": {
                "c2pa.hash.data": { "exclusions": [ {"start": 20, "length": 5000} ], "name": "jumbf manifest" },
                "c2pa.actions.v2": {}
            }}}
        });
        assert_eq!(data_hash_exclusions(&v, "urn:x"), Some(vec![20..5020]));
        assert_eq!(data_hash_exclusions(&v, "urn:other"), None);
    }
}
