//! Verification: read a file's C2PA manifest (embedded, or a `FILE.c2pa`
//! sidecar), validate it with the SDK, close the SDK's exclusion-range hole
//! ([`super::binding`]), decide trust against a [`TrustStore`], and fill a
//! [`ManifestReport`].
//!
//! Errors (exit 2) are reserved for files that cannot be judged at all:
//! missing, unreadable, not an image, or damaged (truncated, corrupt) with
//! no manifest to judge them by. When a manifest can be located, damage to
//! the rest of the file is evidence: the report is invalid ("the file
//! changed after signing") and names the damage. A readable image with a
//! missing, unparseable or tampered manifest is a report (absent or
//! invalid), not an error. A hard binding that leaves more than the
//! manifest store unhashed is reported as its own state,
//! [`State::NonConformant`], which says which bytes the signature does not
//! cover and never claims they changed.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use c2pa::{Context, Reader, Settings, ValidationState};

use super::binding::{self, Problem};
use super::facts;
use super::report::{ManifestReport, Source, State, StatusEntry, StatusReport};
use super::sidecar;
use crate::error::{Error, Result};
use crate::keys::TrustStore;
use crate::media::container::{self, Role, Structure};
use crate::media::decode::check_dimensions;
use crate::media::{read_file, Limits};

const UNTRUSTED: &str = "signingCredential.untrusted";

/// A verifier holding its trust store and SDK context; build once, use for
/// many files (it is `Send + Sync`).
#[derive(Clone)]
pub struct Verifier {
    context: Arc<Context>,
    trust: TrustStore,
    limits: Limits,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("trust", &self.trust.source)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier trusting the roots and keys of `trust`.
    pub fn new(trust: &TrustStore) -> Result<Self> {
        let mut settings = Settings::new();
        if !trust.anchors_pem().is_empty() {
            settings.trust.user_anchors = Some(trust.anchors_pem().to_string());
        }
        let context = Context::new()
            .with_settings(settings)
            .map_err(|e| Error::C2pa(format!("cannot configure trust anchors: {e}")))?;
        Ok(Verifier {
            context: Arc::new(context),
            trust: trust.clone(),
            limits: Limits::default(),
        })
    }

    /// Verify a file, looking for `FILE.c2pa` beside it when nothing is
    /// embedded ([`sidecar::read_beside`]: size-limited; an unreadable
    /// sidecar is an error).
    pub fn verify_path(&self, path: &Path) -> Result<ManifestReport> {
        let bytes = read_file(path, &self.limits)?;
        let walked = container::walk(&bytes)?;
        let sidecar = if walked.has_manifest() {
            None
        } else {
            sidecar::read_beside(path)?
        };
        self.verify_walked(&bytes, &walked, sidecar.as_deref())
    }

    /// Verify image bytes, with an optional external manifest store (used
    /// only when the bytes carry no manifest of their own).
    pub fn verify_bytes(&self, bytes: &[u8], sidecar: Option<&[u8]>) -> Result<ManifestReport> {
        let walked = container::walk(bytes)?;
        self.verify_walked(bytes, &walked, sidecar)
    }

    /// Verify bytes already walked by [`container::walk`].
    pub fn verify_walked(
        &self,
        bytes: &[u8],
        walked: &Structure,
        sidecar: Option<&[u8]>,
    ) -> Result<ManifestReport> {
        let embedded = walked.has_manifest() && walked.format.carries_manifests();
        let reader = Reader::from_shared_context(&self.context);
        let mime = walked.format.mime();
        let (source, read) = match sidecar.filter(|_| !embedded) {
            _ if embedded => (
                Source::Embedded,
                reader.with_stream(mime, Cursor::new(bytes)),
            ),
            Some(store) => (
                Source::Sidecar,
                reader.with_manifest_data_and_stream(store, mime, Cursor::new(bytes)),
            ),
            None => {
                // Nothing to judge the file by: damage is an error.
                if let Some(d) = &walked.damage {
                    return Err(d.to_error());
                }
                if let Some((w, h)) = walked.dimensions {
                    check_dimensions(w, h, &self.limits)?;
                }
                return Ok(ManifestReport::absent());
            }
        };
        let mut r = match read {
            Ok(reader) => self.report(&reader, source, walked, bytes.len() as u64),
            Err(e) => unreadable_manifest(source, &e),
        };
        if let Some(d) = &walked.damage {
            r.damage = Some(d.message());
            if r.state == State::Invalid {
                let why = r.reason.take().unwrap_or_default();
                r.reason = Some(format!("{why}; the file is {}", d.message()));
            }
        }
        Ok(r)
    }

    fn report(
        &self,
        reader: &Reader,
        source: Source,
        walked: &Structure,
        file_len: u64,
    ) -> ManifestReport {
        let mut r = ManifestReport {
            present: true,
            source: Some(source),
            ..ManifestReport::default()
        };
        let Some(manifest) = reader.active_manifest() else {
            r.state = State::Invalid;
            r.reason = Some("the manifest store has no active manifest".into());
            return r;
        };
        r.label = reader.active_label().map(str::to_string);
        facts::fill(&mut r, reader, manifest);
        r.status = status(reader);

        let sdk_state = reader.validation_state();
        let mut valid = sdk_state != ValidationState::Invalid;
        let mut non_conformant = false;
        if valid {
            match self.check_binding(reader, source, walked, file_len) {
                Ok(()) => {}
                Err(Problem::Mismatch(why)) => {
                    r.status.failure.push(StatusEntry {
                        code: binding::MISMATCH_CODE.into(),
                        explanation: Some(why.clone()),
                    });
                    r.reason = Some(why);
                    valid = false;
                }
                Err(Problem::NonConformant { unprotected }) => {
                    let why = non_conformant_reason(walked, &unprotected);
                    r.status.failure.push(StatusEntry {
                        code: binding::NON_CONFORMANT_CODE.into(),
                        explanation: Some(why.clone()),
                    });
                    r.reason = Some(why);
                    valid = false;
                    non_conformant = true;
                }
            }
        }
        if !valid && r.reason.is_none() {
            r.reason = Some(reason_from_failures(&r.status.failure));
        }
        let trusted =
            valid && (sdk_state == ValidationState::Trusted || self.leaf_in_store(manifest));
        r.valid = valid;
        r.trusted = trusted;
        r.state = match (valid, trusted) {
            (false, _) if non_conformant => State::NonConformant,
            (false, _) => State::Invalid,
            (true, false) => State::Valid,
            (true, true) => State::Trusted,
        };
        if r.state == State::Valid {
            r.reason =
                Some("the signer's certificate does not chain to a root in the trust store".into());
        }
        r
    }

    /// The hard-binding location check (see [`super::binding`]).
    fn check_binding(
        &self,
        reader: &Reader,
        source: Source,
        walked: &Structure,
        file_len: u64,
    ) -> Result<(), Problem> {
        let Some(label) = reader.active_label() else {
            return Ok(());
        };
        let detailed = reader
            .detailed_json_checked()
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .ok_or_else(|| {
                Problem::Mismatch("the manifest's hard binding could not be read back".into())
            })?;
        let Some(exclusions) = binding::data_hash_exclusions(&detailed, label) else {
            return Ok(()); // not a data hash (BMFF, box hash): the SDK's own check stands
        };
        let store = match source {
            Source::Embedded => walked.manifest_ranges(),
            Source::Sidecar => Vec::new(),
        };
        binding::check(&exclusions, &store, file_len)
    }

    /// Whether the leaf certificate itself, or its key, is in the store
    /// (a trusted `.pub` key or a directly trusted certificate).
    fn leaf_in_store(&self, manifest: &c2pa::Manifest) -> bool {
        let Some(info) = manifest.signature_info() else {
            return false;
        };
        let Ok(chain) = crate::keys::cert::parse_pem_certs(info.cert_chain()) else {
            return false;
        };
        let Some(leaf) = chain.first() else {
            return false;
        };
        self.trust.contains_cert(leaf)
            || x509_parser::parse_x509_certificate(leaf)
                .map(|(_, c)| {
                    self.trust
                        .contains_key(c.public_key().subject_public_key.data.as_ref())
                })
                .unwrap_or(false)
    }
}

/// Verify `path` against `trust` (one-off; build a [`Verifier`] for batches).
pub fn verify_path(path: &Path, trust: &TrustStore) -> Result<ManifestReport> {
    Verifier::new(trust)?.verify_path(path)
}

fn status(reader: &Reader) -> StatusReport {
    let mut out = StatusReport::default();
    let Some(codes) = reader
        .validation_results()
        .and_then(|v| v.active_manifest())
    else {
        return out;
    };
    out.success = codes
        .success()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    out.informational = codes
        .informational()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    out.failure = codes
        .failure()
        .iter()
        .map(|s| StatusEntry {
            code: s.code().to_string(),
            explanation: s.explanation().map(str::to_string),
        })
        .collect();
    if let Some(deltas) = reader
        .validation_results()
        .and_then(|v| v.ingredient_deltas())
    {
        for d in deltas {
            for f in d.validation_deltas().failure() {
                out.failure.push(StatusEntry {
                    code: f.code().to_string(),
                    explanation: Some(format!(
                        "in ingredient {}: {}",
                        d.ingredient_assertion_uri(),
                        f.explanation().unwrap_or("")
                    )),
                });
            }
        }
    }
    out
}

fn unreadable_manifest(source: Source, e: &c2pa::Error) -> ManifestReport {
    ManifestReport {
        present: true,
        state: State::Invalid,
        source: Some(source),
        reason: Some(format!("the manifest cannot be read: {e}")),
        status: StatusReport {
            failure: vec![StatusEntry {
                code: "manifest.unreadable".into(),
                explanation: Some(e.to_string()),
            }],
            ..StatusReport::default()
        },
        ..ManifestReport::default()
    }
}

/// "non-conformant binding: bytes 0..13617 (header, EXIF) are not covered
/// by the signature; the image data is", naming what the unhashed bytes
/// hold from the container's segments.
fn non_conformant_reason(walked: &Structure, unprotected: &[std::ops::Range<u64>]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut pixels = false;
    for r in unprotected {
        let overlapping = walked
            .segments
            .iter()
            .filter(|g| (g.range.start as u64) < r.end && (g.range.end as u64) > r.start);
        let mut covered = r.start;
        for g in overlapping {
            if (g.range.start as u64) > covered && !parts.contains(&"header") {
                parts.push("header");
            }
            covered = covered.max(g.range.end as u64);
            let name = match g.role {
                Role::Exif => "EXIF",
                Role::Xmp | Role::XmpExtension => "XMP",
                Role::Text => "text metadata",
                Role::Image => {
                    pixels = true;
                    "image data"
                }
                Role::C2pa => continue,
                _ => "header",
            };
            if !parts.contains(&name) {
                parts.push(name);
            }
        }
        if covered < r.end && !parts.contains(&"header") {
            parts.push("header");
        }
    }
    let plural = if unprotected.iter().map(|r| r.end - r.start).sum::<u64>() == 1 {
        "byte"
    } else {
        "bytes"
    };
    let what = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    let tail = if pixels {
        ", image data included"
    } else {
        "; the image data is"
    };
    format!(
        "non-conformant binding: {plural} {}{what} are not covered by the signature{tail}",
        binding::describe(unprotected)
    )
}

/// Plain words for the first real failure code.
fn reason_from_failures(failures: &[StatusEntry]) -> String {
    let Some(f) = failures.iter().find(|f| f.code != UNTRUSTED) else {
        return "the manifest failed validation".into();
    };
    let plain = match f.code.as_str() {
        "assertion.dataHash.mismatch" | "assertion.bmffHash.mismatch" | "assertion.boxesHash.mismatch" => {
            "the image bytes changed after signing (or the manifest belongs to another image)"
        }
        "claimSignature.mismatch" => "the manifest's signature does not match its content (the manifest was altered)",
        "assertion.hashedURI.mismatch" => "an assertion inside the manifest was altered after signing",
        "signingCredential.expired" => "the signing certificate has expired (no trusted timestamp shows it was signed while valid)",
        "signingCredential.invalid" => "the signing certificate is not valid for C2PA signing",
        "signingCredential.revoked" => "the signing certificate was revoked",
        "claimSignature.missing" => "the manifest has no signature",
        "ingredient.manifest.missing" | "claim.missing" => {
            "a manifest the claim refers to is missing from the manifest store"
        }
        "assertion.missing" | "assertion.hashedURI.missing" => {
            "an assertion the claim refers to is missing"
        }
        _ => "",
    };
    let detail = f.explanation.as_deref().unwrap_or("");
    if plain.is_empty() {
        format!("{}: {detail}", f.code)
    } else {
        format!("{plain} [{}]", f.code)
    }
}
