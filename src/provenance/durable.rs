//! Durable content credentials: a signed C2PA manifest plus hallmark's
//! invisible watermark, so an image whose manifest was stripped (by a
//! platform re-encoding it, a screenshot) can still be tied to it.
//!
//! The manifest id is chosen first; the watermark payload is the first 64
//! bits of SHA-256 of that id, embedded before signing (the hard binding
//! covers the watermarked bytes), and declared in a `c2pa.soft-binding`
//! assertion (algorithm [`SOFT_BINDING_ALG`], value: the payload as 16 hex
//! digits). A verifier that finds the watermark in a stripped copy looks the
//! payload up among the manifests it knows.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::sign::{new_manifest_id, sign_prepared, SignOptions, Signed};
use crate::error::{Error, Result};
use crate::media::{decode, encode, Format};
use crate::watermark::{self, EmbedOptions};

/// The soft-binding algorithm name recorded in manifests.
pub const SOFT_BINDING_ALG: &str = "io.hallmark.watermark.1";
/// The C2PA soft-binding assertion label.
pub const SOFT_BINDING_LABEL: &str = "c2pa.soft-binding";

/// The watermark payload for a manifest id.
pub fn payload_for(manifest_id: &str) -> u64 {
    let d = Sha256::digest(manifest_id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The payload (16 hex digits) a manifest's `c2pa.soft-binding`
/// assertions declare for hallmark's watermark, if any.
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

/// What [`sign_durable`] wrote.
#[derive(Debug, Clone)]
pub struct Durable {
    /// The signing result.
    pub signed: Signed,
    /// The watermark payload (see [`payload_for`]).
    pub payload: u64,
    /// PSNR of the watermarked image against the input, dB.
    pub psnr: f64,
}

/// Watermark `input` with a payload derived from a fresh manifest id (or
/// `opts.manifest_id`), then sign the watermarked image into `output`. The
/// image is re-encoded in its own format (JPEG at quality 95, PNG and WebP
/// lossless); metadata of the input (EXIF, XMP) is not carried over. An
/// input that already carries a manifest becomes the parent ingredient
/// ([`sign_prepared`]), so its history is kept.
pub fn sign_durable(
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &SignOptions,
    wm: &EmbedOptions,
) -> Result<Durable> {
    let mut opts = opts.clone();
    let id = opts.manifest_id.clone().unwrap_or_else(new_manifest_id);
    let payload = payload_for(&id);
    opts.manifest_id = Some(id);
    opts.extra_assertions.push((
        SOFT_BINDING_LABEL.into(),
        json!({
            "alg": SOFT_BINDING_ALG,
            "name": "hallmark invisible watermark; value: first 64 bits of SHA-256 of the manifest id",
            "blocks": [{ "scope": {}, "value": format!("{payload:016x}") }],
        }),
    ));
    let limits = opts.limits;
    let mut psnr = 0.0;
    let signed = sign_prepared(input, output, &opts, |bytes| {
        let format = Format::sniff(bytes).ok_or_else(|| {
            Error::Unsupported("not a recognised image format (JPEG, PNG, WebP)".into())
        })?;
        let img = decode(bytes, &limits)?;
        let marked = watermark::embed(&img, payload, wm)?;
        psnr = watermark::psnr(&img, &marked);
        encode(&marked, format).map(Some)
    })?;
    Ok(Durable {
        signed,
        payload,
        psnr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_the_hash_prefix() {
        // First 8 bytes of SHA-256 of the id (Python hashlib).
        let id = "urn:c2pa:00000000-0000-4000-8000-000000000000";
        assert_eq!(payload_for(id), 0xbfcf_a64b_8ee1_25cd);
        assert_ne!(payload_for(id), payload_for("urn:c2pa:other"));
    }

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
