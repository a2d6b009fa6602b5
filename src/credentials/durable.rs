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

use super::binding::{SOFT_BINDING_ALG, SOFT_BINDING_LABEL};
use super::record::Record;
use super::registry::{Registry, Stored};
use crate::error::{Error, Result};
use crate::media::{decode, encode, Format};
use crate::provenance::sign::{new_manifest_id, sign_prepared_then, SignOptions, Signed};
use crate::provenance::Verifier;
use crate::watermark::{self, EmbedOptions};

/// The watermark payload for a manifest id.
pub fn payload_for(manifest_id: &str) -> u64 {
    let d = Sha256::digest(manifest_id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
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
/// ([`crate::provenance::sign_prepared`]), so its history is kept.
pub fn sign_durable(
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &SignOptions,
    wm: &EmbedOptions,
) -> Result<Durable> {
    sign_durable_then(input, output, opts, wm, |_| Ok(()))
}

fn sign_durable_then(
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &SignOptions,
    wm: &EmbedOptions,
    before_write: impl FnOnce(&crate::provenance::SignedBytes) -> Result<()>,
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
    let signed = sign_prepared_then(
        input,
        output,
        &opts,
        |bytes| {
            let format = Format::sniff(bytes).ok_or_else(|| {
                Error::Unsupported("not a recognised image format (JPEG, PNG, WebP)".into())
            })?;
            let img = decode(bytes, &limits)?;
            let marked = watermark::embed(&img, payload, wm)?;
            psnr = watermark::psnr(&img, &marked);
            encode(&marked, format).map(Some)
        },
        before_write,
    )?;
    Ok(Durable {
        signed,
        payload,
        psnr,
    })
}

/// What [`sign_recorded`] did.
#[derive(Debug, Clone)]
pub struct SignedRecorded {
    /// The signing result.
    pub signed: Signed,
    /// Watermark payload and PSNR, when watermarked.
    pub watermark: Option<(u64, f64)>,
    /// Whether the registry already knew the manifest.
    pub stored: Stored,
    /// What recording noticed (see [`Record::from_signed`]).
    pub notes: Vec<String>,
}

/// Sign `input` (with the watermark when `wm` is given) and record the
/// manifest in `registry` **before** the output is written: if recording
/// fails, no output appears, so no signed file exists whose manifest the
/// registry lacks. (A crash after recording leaves a record without a
/// file, which is harmless; files signed elsewhere are added with
/// `registry add`.)
pub fn sign_recorded(
    input: &std::path::Path,
    output: &std::path::Path,
    opts: &SignOptions,
    wm: Option<&EmbedOptions>,
    registry: &dyn Registry,
    verifier: &Verifier,
) -> Result<SignedRecorded> {
    let mut outcome: Option<(Stored, Vec<String>)> = None;
    let limits = opts.limits;
    let sidecar = opts.sidecar;
    let record = |sb: &crate::provenance::SignedBytes| -> Result<()> {
        let store = sidecar.then_some(sb.manifest.as_slice());
        let prepared = Record::from_signed(&sb.asset, store, verifier, &limits)?;
        let stored = registry.insert(&prepared.record)?;
        outcome = Some((stored, prepared.notes));
        Ok(())
    };
    let (signed, watermark) = match wm {
        Some(wm) => {
            let d = sign_durable_then(input, output, opts, wm, record)?;
            (d.signed, Some((d.payload, d.psnr)))
        }
        None => (
            sign_prepared_then(input, output, opts, |_| Ok(None), record)?,
            None,
        ),
    };
    let (stored, notes) =
        outcome.ok_or_else(|| Error::Registry("the manifest was not recorded".into()))?;
    Ok(SignedRecorded {
        signed,
        watermark,
        stored,
        notes,
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
}
