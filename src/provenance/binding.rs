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
//! ranges found by our own container walk ([`super::container`]), and a
//! sidecar manifest (no store in the file) may have no non-empty exclusion.

use std::ops::Range;

use serde_json::Value;

/// Validation status code reported when the check fails (the code C2PA
/// defines for it).
pub const MISMATCH_CODE: &str = "assertion.dataHash.mismatch";

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

/// Check exclusions against where the store really is. Returns the reason
/// when they do not match.
pub fn check(
    exclusions: &[Exclusion],
    store_ranges: &[Range<u64>],
    file_len: u64,
) -> Result<(), String> {
    for ex in exclusions.iter().filter(|e| e.end > e.start) {
        if ex.end > file_len {
            return Err(format!(
                "the data hash excludes bytes {}..{} but the file has only {file_len} bytes",
                ex.start, ex.end
            ));
        }
        if store_ranges.is_empty() {
            return Err(format!(
                "the data hash excludes bytes {}..{} but the file carries no manifest there: \
                 those bytes were changed or replaced",
                ex.start, ex.end
            ));
        }
        if !store_ranges.iter().any(|r| r == ex) {
            return Err(format!(
                "the data hash excludes bytes {}..{} but the manifest store sits at {}: \
                 bytes outside the manifest escaped the hash",
                ex.start,
                ex.end,
                describe(store_ranges)
            ));
        }
    }
    Ok(())
}

fn describe(ranges: &[Range<u64>]) -> String {
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
        assert!(check(&[10..50], &[], 100)
            .unwrap_err()
            .contains("no manifest"));
        assert!(check(&[10..60], &[10..50], 100).is_err());
        assert!(check(&[10..50, 60..70], &[10..50], 100).is_err());
        assert!(check(&[90..150], &[90..150], 100).is_err());
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
