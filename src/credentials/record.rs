//! A registry record: one verified manifest and the soft bindings that lead
//! back to it.
//!
//! A [`Record`] can only be made by [`Record::from_signed`], which verifies
//! the manifest first (signature, hard binding, structure): the type itself
//! is the proof that what a registry stores was valid when it was stored,
//! so a registry cannot be turned into a laundering service by handing it
//! forged or broken manifests. Its bindings are only those the manifest
//! declares *and* the pixels carry (a declared watermark that cannot be
//! detected is left out, with a note), plus the fingerprint of the signed
//! pixels themselves.

use std::io::Cursor;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::binding::{declared_payload, SOFT_BINDING_ALG};
use super::fingerprint::{Fingerprint, Hash256};
use crate::error::{Error, Result};
use crate::media::{decode, Format, Limits};
use crate::provenance::{ManifestReport, Verifier};
use crate::watermark::{self, DetectOptions};

/// One soft binding: an algorithm and the value it computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The soft-binding algorithm name (as in a `c2pa.soft-binding` assertion).
    pub alg: String,
    /// The binding's value (for hallmark's watermark: the 8 payload bytes).
    pub value: Vec<u8>,
}

/// Proof that a record was built from a verified manifest (private field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified(());

/// A manifest and its soft bindings, as a registry stores them. Fields are
/// read through methods: a record cannot be altered after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The active manifest's id (`urn:c2pa:...`).
    pub(crate) manifest_id: String,
    /// The complete signed manifest store (JUMBF), as found in the file.
    pub(crate) manifest_store: Vec<u8>,
    /// Media type of the signed asset.
    pub(crate) format: String,
    /// Soft bindings declared by the manifest and found in the pixels.
    pub(crate) bindings: Vec<Binding>,
    /// Perceptual fingerprint of the signed pixels (`None` when too flat).
    pub(crate) fingerprint: Option<Fingerprint>,
    /// Signing certificate subject.
    pub(crate) signer_subject: String,
    /// `SHA256:` fingerprint of the signer's public key.
    pub(crate) key_fingerprint: Option<String>,
    /// SHA-256 of the signed asset, hex.
    pub(crate) asset_sha256: String,
    /// IPTC digital source type the manifest declares.
    pub(crate) digital_source_type: Option<String>,
    /// When the record was made (Unix seconds).
    pub(crate) created: i64,
    pub(crate) verified: Verified,
}

/// A record and what [`Record::from_signed`] noticed on the way.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The record, ready to store.
    pub record: Record,
    /// The manifest as verified.
    pub report: ManifestReport,
    /// Things the user should know (e.g. a declared watermark not found).
    pub notes: Vec<String>,
}

impl Record {
    /// Verify a signed asset (its bytes, and the manifest store when it is
    /// a sidecar) and build its record. An absent or invalid manifest is an
    /// [`Error::InvalidInput`] naming why.
    pub fn from_signed(
        asset: &[u8],
        sidecar: Option<&[u8]>,
        verifier: &Verifier,
        limits: &Limits,
    ) -> Result<Prepared> {
        let report = verifier.verify_bytes(asset, sidecar)?;
        if !report.present {
            return Err(Error::InvalidInput(
                "no C2PA manifest: only signed files can be recorded".into(),
            ));
        }
        if !report.valid {
            return Err(Error::InvalidInput(format!(
                "the manifest is invalid ({}); a registry only records valid manifests",
                report.reason.as_deref().unwrap_or("validation failed")
            )));
        }
        let manifest_id = report
            .label
            .clone()
            .ok_or_else(|| Error::InvalidInput("the manifest has no id".into()))?;
        let format = Format::sniff(asset)
            .ok_or_else(|| Error::Unsupported("not a recognised image format".into()))?;
        let manifest_store = match sidecar {
            Some(s) => s.to_vec(),
            None => c2pa::jumbf_io::load_jumbf_from_stream(format.mime(), &mut Cursor::new(asset))
                .map_err(|e| Error::C2pa(format!("cannot extract the manifest store: {e}")))?,
        };
        let image = decode(asset, limits)?;
        let mut notes = Vec::new();
        let mut bindings = Vec::new();
        if let Some(declared) = declared_payload(&report.soft_bindings) {
            let found = watermark::detect(&image, &DetectOptions::default())?;
            let found = found
                .payload
                .filter(|_| found.detected)
                .map(|p| format!("{p:016x}"));
            if found.as_deref() == Some(declared.as_str()) {
                let value = hex::decode(&declared)
                    .map_err(|e| Error::InvalidInput(format!("declared payload: {e}")))?;
                bindings.push(Binding {
                    alg: SOFT_BINDING_ALG.into(),
                    value,
                });
            } else {
                notes.push(format!(
                    "the manifest declares watermark payload {declared} but the pixels {}; recorded with the fingerprint only",
                    match found {
                        Some(f) => format!("carry {f}"),
                        None => "carry no detectable watermark".into(),
                    }
                ));
            }
        }
        let fp = Fingerprint::of(&image);
        let fingerprint = if fp.usable() {
            Some(fp)
        } else {
            notes.push(format!(
                "the image is too flat for a reliable fingerprint (quality {}); not indexed by fingerprint",
                fp.quality
            ));
            None
        };
        let signer = report.signer.clone().unwrap_or_default();
        let record = Record {
            manifest_id,
            manifest_store,
            format: format.mime().to_string(),
            bindings,
            fingerprint,
            signer_subject: signer.subject,
            key_fingerprint: signer.key_fingerprint,
            asset_sha256: hex::encode(Sha256::digest(asset)),
            digital_source_type: report.digital_source_type.clone(),
            created: now_unix(),
            verified: Verified(()),
        };
        Ok(Prepared {
            record,
            report,
            notes,
        })
    }

    /// The active manifest's id (`urn:c2pa:...`).
    pub fn manifest_id(&self) -> &str {
        &self.manifest_id
    }

    /// The complete signed manifest store (JUMBF, `application/c2pa`).
    pub fn manifest_store(&self) -> &[u8] {
        &self.manifest_store
    }

    /// Media type of the signed asset.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// Soft bindings declared by the manifest and found in the pixels.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The perceptual fingerprint of the signed pixels, if usable.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        self.fingerprint.as_ref()
    }

    /// When the record was made (Unix seconds).
    pub fn created(&self) -> i64 {
        self.created
    }

    /// The watermark payload bound to this record, if any.
    pub fn payload(&self) -> Option<u64> {
        self.bindings
            .iter()
            .find(|b| b.alg == SOFT_BINDING_ALG)
            .and_then(|b| <[u8; 8]>::try_from(b.value.as_slice()).ok())
            .map(u64::from_be_bytes)
    }

    /// For benchmarks only: a copy under another manifest id, watermark
    /// payload and fingerprint hash. The copy keeps this record's manifest
    /// store, which does not verify as that id: never store such a copy in
    /// a registry anyone relies on.
    #[doc(hidden)]
    pub fn bench_clone(&self, manifest_id: &str, payload: u64, hash: Hash256) -> Record {
        let mut r = self.clone();
        r.manifest_id = manifest_id.to_string();
        r.bindings = vec![Binding {
            alg: SOFT_BINDING_ALG.into(),
            value: payload.to_be_bytes().to_vec(),
        }];
        if let Some(f) = r.fingerprint.as_mut() {
            f.hash = hash;
        }
        r
    }

    /// What a report shows of the record (no store bytes, no grid).
    pub fn summary(&self) -> RecordSummary {
        RecordSummary {
            manifest_id: self.manifest_id.clone(),
            format: self.format.clone(),
            signer_subject: self.signer_subject.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            asset_sha256: self.asset_sha256.clone(),
            digital_source_type: self.digital_source_type.clone(),
            created: self.created,
            manifest_store_bytes: self.manifest_store.len(),
            watermark_payload: self.payload().map(|p| format!("{p:016x}")),
            fingerprint: self.fingerprint.as_ref().map(|f| f.hash.to_hex()),
        }
    }

    /// Rebuild a record read back from a registry (it was verified when stored).
    #[allow(clippy::too_many_arguments)] // one argument per stored column
    pub(crate) fn from_storage(
        manifest_id: String,
        manifest_store: Vec<u8>,
        format: String,
        bindings: Vec<Binding>,
        fingerprint: Option<Fingerprint>,
        signer_subject: String,
        key_fingerprint: Option<String>,
        asset_sha256: String,
        digital_source_type: Option<String>,
        created: i64,
    ) -> Record {
        Record {
            manifest_id,
            manifest_store,
            format,
            bindings,
            fingerprint,
            signer_subject,
            key_fingerprint,
            asset_sha256,
            digital_source_type,
            created,
            verified: Verified(()),
        }
    }
}

/// The JSON view of a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSummary {
    /// The manifest id.
    pub manifest_id: String,
    /// Media type of the signed asset.
    pub format: String,
    /// Signing certificate subject.
    pub signer_subject: String,
    /// Signer key fingerprint.
    pub key_fingerprint: Option<String>,
    /// SHA-256 of the signed asset.
    pub asset_sha256: String,
    /// Declared digital source type.
    pub digital_source_type: Option<String>,
    /// When recorded (Unix seconds).
    pub created: i64,
    /// Size of the stored manifest store.
    pub manifest_store_bytes: usize,
    /// The watermark payload bound to it (16 hex digits).
    pub watermark_payload: Option<String>,
    /// The perceptual fingerprint (64 hex digits).
    pub fingerprint: Option<String>,
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
