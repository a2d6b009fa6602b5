//! Soft bindings: how a manifest names the watermark that points back to
//! it. A `c2pa.soft-binding` assertion lists an algorithm (`alg`) and, per
//! block, a value; hallmark's watermark uses [`SOFT_BINDING_ALG`] with the
//! 64-bit payload as 16 hex digits.

/// The soft-binding algorithm name recorded in manifests.
pub const SOFT_BINDING_ALG: &str = "io.hallmark.watermark.1";
/// The soft-binding algorithm name of hallmark's perceptual fingerprint
/// (see [`super::fingerprint`]); values are the 32 hash bytes.
pub const FINGERPRINT_ALG: &str = "io.hallmark.dct256.1";
/// The C2PA soft-binding assertion label.
pub const SOFT_BINDING_LABEL: &str = "c2pa.soft-binding";

/// The payload (16 hex digits, lower case) a manifest's
/// `c2pa.soft-binding` assertions declare for hallmark's watermark, if any.
pub fn declared_payload(soft_bindings: &[serde_json::Value]) -> Option<String> {
    soft_bindings
        .iter()
        .filter(|sb| sb.get("alg").and_then(|a| a.as_str()) == Some(SOFT_BINDING_ALG))
        .flat_map(|sb| {
            sb.get("blocks")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
        })
        .find_map(|b| {
            b.get("value")
                .and_then(|v| v.as_str())
                .map(str::to_ascii_lowercase)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_declared_payload_among_soft_bindings() {
        let other = json!({"alg": "com.example.other", "blocks": [{"scope": {}, "value": "x"}]});
        let ours = json!({"alg": SOFT_BINDING_ALG, "blocks": [{"scope": {}, "value": "00FF00FF00FF00FF"}]});
        assert_eq!(declared_payload(std::slice::from_ref(&other)), None);
        assert_eq!(
            declared_payload(&[other, ours]).as_deref(),
            Some("00ff00ff00ff00ff")
        );
    }
}
