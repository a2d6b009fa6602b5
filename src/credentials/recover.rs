//! Recovery: from an image whose manifest was stripped or broken, back to
//! the credentials a registry holds for it.
//!
//! 1. **Watermark candidates.** hallmark's watermark payload, if detected,
//!    is looked up by its soft binding. A candidate is *confirmed* only when
//!    the image's fingerprint agrees with the registered one within
//!    [`CONFIRM_DISTANCE`] (crops allowed, see
//!    [`content_distance`]): a watermark copied onto another
//!    picture cannot borrow that picture's credentials.
//! 2. **Fingerprint candidates.** Otherwise (no watermark, or none
//!    confirmed), the nearest registered fingerprints within
//!    [`MATCH_DISTANCE`] of the whole image are examined, and one is taken
//!    only if the two 64x64 grids also agree in their details
//!    ([`detail_correlation`] at least [`MATCH_DETAIL`]): strict, because
//!    nothing else vouches for the match. The hash alone cannot tell a copy
//!    from an edit or another take of the same scene (they share the low
//!    frequencies it is made of); the details can.
//! 3. The confirmed record's manifest store is verified again, on its own
//!    (signature, certificate, trust, assertions; the hard binding cannot
//!    hold, the pixels having changed) and reported as *recovered
//!    credentials* with the binding named, never as the file's own manifest.
//!
//! [`Resolver`] bundles a registry and a verifier and also answers the
//! lookups of the C2PA Soft Binding Resolution API (by binding, by
//! content, manifest by id, supported algorithms); it is `Send + Sync` and
//! blocks only the calling thread.

use std::io::Cursor;

use image::DynamicImage;
use serde::Serialize;

use super::binding::{FINGERPRINT_ALG, SOFT_BINDING_ALG};
use super::fingerprint::{content_distance, detail_correlation, Fingerprint, Hash256, BITS};
use super::record::RecordSummary;
use super::registry::Registry;
use crate::error::{Error, Result};
use crate::keys::TrustStore;
use crate::media::{decode, Limits};
use crate::provenance::{ManifestReport, State, Verifier};
use crate::watermark::{self, attacks, DetectOptions, Detection};

/// Largest [`content_distance`] (of 256 bits) at which a watermark
/// candidate is confirmed. Unrelated images, even searched over every
/// window, stay above 70 (see docs/credentials.md).
pub const CONFIRM_DISTANCE: u32 = 60;
/// Largest whole-image distance at which a fingerprint alone recovers
/// credentials (no watermark to vouch for the match); at most 15, so the
/// search probes exact index chunks only. Hashes have 128 bits set, so
/// distances are even: 14 is the largest that can occur under 15.
pub const MATCH_DISTANCE: u32 = 14;
/// Smallest [`detail_correlation`] of the registered and the query grids
/// at which a fingerprint alone recovers credentials. Attacked copies
/// (re-encoding, resizing, gain, contrast, blur, noise) keep 0.94 or more,
/// 99% of them 0.97; AI edits of one input, 0.41-0.45 (see
/// docs/credentials.md, `examples/fingerprint_match`).
pub const MATCH_DETAIL: f64 = 0.90;
/// How many fingerprint neighbours are examined.
const NEIGHBOURS: usize = 5;

/// C2PA status codes of the hard binding: they fail by design when a
/// recovered manifest is checked against the changed pixels.
const HARD_BINDING_CODES: [&str; 3] = [
    "assertion.dataHash.mismatch",
    "assertion.bmffHash.mismatch",
    "assertion.boxesHash.mismatch",
];

/// How a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// hallmark's watermark payload, confirmed by the fingerprint.
    Watermark,
    /// The fingerprint alone.
    Fingerprint,
}

/// A registry record considered for this image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The record's manifest id.
    pub manifest_id: String,
    /// How it was found.
    pub via: Via,
    /// Fingerprint distance to the image (of 256), when it could be measured.
    pub distance: Option<u32>,
    /// The largest distance that confirms it.
    pub threshold: u32,
    /// For a fingerprint-only candidate: the detail correlation of the
    /// two grids (it must reach [`MATCH_DETAIL`]), rounded to 3 places.
    pub detail_correlation: Option<f64>,
    /// Whether it is confirmed.
    pub confirmed: bool,
}

/// The credentials recovered for an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovered {
    /// The recovered manifest's id.
    pub manifest_id: String,
    /// How it is bound, in words, e.g. `watermark payload 0x... +
    /// fingerprint distance 9/256`.
    pub binding: String,
    /// Found by watermark (confirmed by fingerprint) or fingerprint alone.
    pub via: Via,
    /// The watermark payload that led to it (16 hex digits).
    pub payload: Option<String>,
    /// Fingerprint distance (of 256 bits).
    pub distance: u32,
    /// The threshold it was held to.
    pub threshold: u32,
    /// For a fingerprint-only recovery: the detail correlation of the grids.
    pub detail_correlation: Option<f64>,
    /// The recovered manifest, verified on its own. `valid` means the
    /// signature, certificate and assertions check out; the hard binding is
    /// not (cannot be) checked against this image.
    pub manifest: ManifestReport,
    /// The registry record.
    pub record: RecordSummary,
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// The registry searched.
    pub registry: String,
    /// hallmark's watermark payload in the image (16 hex digits), if any.
    pub watermark_payload: Option<String>,
    /// The image's fingerprint (64 hex digits).
    pub fingerprint: String,
    /// Its quality (0..100; matching by fingerprint alone needs 20).
    pub fingerprint_quality: u8,
    /// Every record considered.
    pub candidates: Vec<Candidate>,
    /// The recovered credentials, when a candidate was confirmed.
    pub recovered: Option<Recovered>,
}

/// A soft-binding algorithm the resolver understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Algorithm {
    /// The `alg` name.
    pub alg: &'static str,
    /// `watermark` or `fingerprint`.
    pub kind: &'static str,
    /// Length of a binding value in bytes.
    pub value_bytes: usize,
}

/// One match of a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// The manifest id.
    pub manifest_id: String,
    /// The algorithm that matched.
    pub alg: &'static str,
    /// 0..100 (100: identical binding).
    pub similarity: u32,
}

/// A registry with a verifier: recovery and the lookups an HTTP resolver
/// serves. Build once, share across threads.
#[derive(Debug)]
pub struct Resolver {
    registry: Box<dyn Registry>,
    verifier: Verifier,
    limits: Limits,
}

impl Resolver {
    /// A resolver over `registry`, verifying recovered manifests against `trust`.
    pub fn new(registry: Box<dyn Registry>, trust: &TrustStore) -> Result<Resolver> {
        Ok(Resolver {
            registry,
            verifier: Verifier::new(trust)?,
            limits: Limits::default(),
        })
    }

    /// The registry.
    pub fn registry(&self) -> &dyn Registry {
        self.registry.as_ref()
    }

    /// The soft-binding algorithms this resolver looks up.
    pub fn supported_algorithms() -> Vec<Algorithm> {
        vec![
            Algorithm {
                alg: SOFT_BINDING_ALG,
                kind: "watermark",
                value_bytes: 8,
            },
            Algorithm {
                alg: FINGERPRINT_ALG,
                kind: "fingerprint",
                value_bytes: 32,
            },
        ]
    }

    /// Records bound to `(alg, value)`: the watermark algorithm matches
    /// exactly; the fingerprint algorithm matches within
    /// [`MATCH_DISTANCE`], nearest first. An unknown `alg` or a value of
    /// the wrong length is [`Error::InvalidInput`].
    pub fn by_binding(&self, alg: &str, value: &[u8]) -> Result<Vec<Match>> {
        if alg == SOFT_BINDING_ALG {
            check_len(alg, value, 8)?;
            return Ok(self
                .registry
                .by_binding(alg, value)?
                .into_iter()
                .map(|manifest_id| Match {
                    manifest_id,
                    alg: SOFT_BINDING_ALG,
                    similarity: 100,
                })
                .collect());
        }
        if alg == FINGERPRINT_ALG {
            check_len(alg, value, 32)?;
            let hash = Hash256::from_slice(value)?;
            return Ok(self
                .registry
                .nearest(&hash, MATCH_DISTANCE, NEIGHBOURS)?
                .into_iter()
                .map(|n| Match {
                    manifest_id: n.manifest_id,
                    alg: FINGERPRINT_ALG,
                    similarity: similarity(n.distance),
                })
                .collect());
        }
        Err(unsupported(alg))
    }

    /// Records matching an uploaded asset: the confirmed recovery, if any.
    pub fn by_content(&self, bytes: &[u8]) -> Result<Vec<Match>> {
        self.by_content_using(bytes, None)
    }

    /// [`Resolver::by_content`] with one algorithm only: the watermark
    /// (still confirmed by the fingerprint) or the fingerprint alone (the
    /// watermark is not looked for); `None` tries both, as recovery does.
    /// An unknown `alg` is [`Error::InvalidInput`].
    pub fn by_content_using(&self, bytes: &[u8], alg: Option<&str>) -> Result<Vec<Match>> {
        let image = decode(bytes, &self.limits)?;
        let r = match alg {
            None => self.recover_image(&image)?,
            Some(SOFT_BINDING_ALG) => {
                let mut r = self.recover_image(&image)?;
                r.recovered = r.recovered.filter(|rec| rec.via == Via::Watermark);
                r
            }
            Some(FINGERPRINT_ALG) => self.recover_with(&image, None)?,
            Some(other) => return Err(unsupported(other)),
        };
        Ok(r.recovered
            .map(|rec| Match {
                manifest_id: rec.manifest_id,
                alg: match rec.via {
                    Via::Watermark => SOFT_BINDING_ALG,
                    Via::Fingerprint => FINGERPRINT_ALG,
                },
                similarity: similarity(rec.distance),
            })
            .into_iter()
            .collect())
    }

    /// The complete manifest store (JUMBF, `application/c2pa`) of a manifest id.
    pub fn manifest_store(&self, manifest_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.registry.get(manifest_id)?.map(|r| r.manifest_store))
    }

    /// Decode an image (with the default limits) and recover its credentials.
    pub fn recover_bytes(&self, bytes: &[u8]) -> Result<Recovery> {
        let image = decode(bytes, &self.limits)?;
        self.recover_image(&image)
    }

    /// Recover the credentials of a decoded image (detects the watermark).
    pub fn recover_image(&self, image: &DynamicImage) -> Result<Recovery> {
        // One file, where every mark counts: the full search, unscreened.
        let d = watermark::detect(
            image,
            &DetectOptions {
                screen: false,
                ..DetectOptions::default()
            },
        )?;
        self.recover_with(image, Found::of(&d))
    }

    /// [`Resolver::recover_image`] when the watermark was already looked
    /// for: `found` is what was found (`None`: no watermark).
    pub fn recover_with(&self, image: &DynamicImage, found: Option<Found>) -> Result<Recovery> {
        let payload = found.map(|f| f.payload);
        let fp = Fingerprint::of(image);
        let mut candidates = Vec::new();
        let mut confirmed: Option<(Candidate, super::record::Record)> = None;
        if let Some(p) = payload {
            let ids = self
                .registry
                .by_binding(SOFT_BINDING_ALG, &p.to_be_bytes())?;
            // The watermark also tells how the copy was turned or mirrored:
            // its fingerprint is compared undone as well, so a rotated or
            // mirrored copy is confirmed like an upright one (only worked
            // out when the payload has candidates to confirm).
            let upright = found
                .filter(|_| !ids.is_empty())
                .and_then(|f| f.undo(image))
                .map(|img| Fingerprint::of(&img));
            for id in ids {
                let Some(rec) = self.registry.get(&id)? else {
                    continue;
                };
                let distance = rec.fingerprint.as_ref().map(|f| {
                    let d = content_distance(f, &fp);
                    upright
                        .as_ref()
                        .map_or(d, |u| d.min(content_distance(f, u)))
                });
                let ok = distance.is_some_and(|d| d <= CONFIRM_DISTANCE);
                let c = Candidate {
                    manifest_id: id,
                    via: Via::Watermark,
                    distance,
                    threshold: CONFIRM_DISTANCE,
                    detail_correlation: None,
                    confirmed: ok,
                };
                if ok
                    && confirmed
                        .as_ref()
                        .is_none_or(|(b, _)| b.distance > c.distance)
                {
                    confirmed = Some((c.clone(), rec));
                }
                candidates.push(c);
            }
        }
        if confirmed.is_none() && fp.usable() {
            for n in self
                .registry
                .nearest(&fp.hash, MATCH_DISTANCE, NEIGHBOURS)?
            {
                if candidates.iter().any(|c| c.manifest_id == n.manifest_id) {
                    continue;
                }
                let Some(rec) = self.registry.get(&n.manifest_id)? else {
                    continue;
                };
                let detail = rec
                    .fingerprint
                    .as_ref()
                    .and_then(|f| detail_correlation(&f.grid, &fp.grid))
                    .map(|r| (r * 1000.0).round() / 1000.0);
                let c = Candidate {
                    manifest_id: n.manifest_id,
                    via: Via::Fingerprint,
                    distance: Some(n.distance),
                    threshold: MATCH_DISTANCE,
                    detail_correlation: detail,
                    confirmed: detail.is_some_and(|r| r >= MATCH_DETAIL),
                };
                if c.confirmed && confirmed.is_none() {
                    confirmed = Some((c.clone(), rec));
                }
                candidates.push(c);
            }
        }
        let recovered = match confirmed {
            Some((c, rec)) => {
                let manifest = self.verify_recovered(&rec.manifest_store, &rec.manifest_id)?;
                let distance = c.distance.unwrap_or(BITS);
                let payload_hex = payload.map(|p| format!("{p:016x}"));
                let binding = match (&c.via, &payload_hex) {
                    (Via::Watermark, Some(p)) => format!(
                        "watermark payload 0x{p} + fingerprint distance {distance}/{BITS} (at most {CONFIRM_DISTANCE})"
                    ),
                    _ => format!(
                        "fingerprint distance {distance}/{BITS} (at most {MATCH_DISTANCE}) and detail \
                         correlation {:.3} (at least {MATCH_DETAIL:.2}); no watermark",
                        c.detail_correlation.unwrap_or(0.0)
                    ),
                };
                Some(Recovered {
                    manifest_id: rec.manifest_id.clone(),
                    binding,
                    via: c.via,
                    payload: payload_hex.filter(|_| c.via == Via::Watermark),
                    distance,
                    threshold: c.threshold,
                    detail_correlation: c.detail_correlation,
                    manifest,
                    record: rec.summary(),
                })
            }
            None => None,
        };
        Ok(Recovery {
            registry: self.registry.location(),
            watermark_payload: payload.map(|p| format!("{p:016x}")),
            fingerprint: fp.hash.to_hex(),
            fingerprint_quality: fp.quality,
            candidates,
            recovered,
        })
    }

    /// Verify a stored manifest store on its own. The SDK checks it against
    /// a 1x1 stand-in image, so the hard binding fails by design; every
    /// other check (signature, certificate, assertion hashes, trust) stands.
    fn verify_recovered(&self, store: &[u8], manifest_id: &str) -> Result<ManifestReport> {
        let mut r = self.verifier.verify_bytes(&stand_in()?, Some(store))?;
        let real_failures: Vec<_> = r
            .status
            .failure
            .iter()
            .filter(|f| {
                !HARD_BINDING_CODES.contains(&f.code.as_str())
                    && f.code != "signingCredential.untrusted"
            })
            .cloned()
            .collect();
        let signed = r
            .status
            .success
            .iter()
            .any(|c| c == "claimSignature.validated");
        r.valid = r.present && signed && real_failures.is_empty();
        if r.label.as_deref() != Some(manifest_id) {
            r.valid = false;
            r.reason = Some(format!(
                "the stored manifest store's active manifest is not {manifest_id}"
            ));
        }
        r.trusted = r.valid
            && r.status
                .success
                .iter()
                .any(|c| c == "signingCredential.trusted");
        r.state = match (r.valid, r.trusted) {
            (false, _) => State::Invalid,
            (true, false) => State::Valid,
            (true, true) => State::Trusted,
        };
        r.status
            .failure
            .retain(|f| !HARD_BINDING_CODES.contains(&f.code.as_str()));
        if r.valid {
            r.reason = Some(if r.trusted {
                "recovered from the registry: signature and signer verified; the hard binding does not apply to this copy".into()
            } else {
                "recovered from the registry: signature verified, but the signer does not chain to a root in the trust store".into()
            });
        } else if r.reason.is_none() || real_failures.is_empty() {
            r.reason = Some("the recovered manifest does not verify".into());
        }
        Ok(r)
    }
}

/// A detected watermark as recovery uses it: the payload to look up, and
/// the geometry the detector measured (how the copy is turned and whether
/// it is mirrored relative to the signed image).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// The decoded payload.
    pub payload: u64,
    /// Rotation of the tile grid, degrees ([`Detection::rotation_deg`]).
    pub rotation_deg: f64,
    /// The copy is mirrored ([`Detection::mirrored`]).
    pub mirrored: bool,
}

impl Found {
    /// Smallest rotation worth undoing, degrees.
    const MIN_TURN: f64 = 0.5;

    /// What `d` found, if it detected a payload.
    pub fn of(d: &Detection) -> Option<Found> {
        d.payload.filter(|_| d.detected).map(|payload| Found {
            payload,
            rotation_deg: d.rotation_deg,
            mirrored: d.mirrored,
        })
    }

    /// The image mirrored back and turned back upright, cropped to the
    /// part the turn keeps inside the frame (the fingerprint comparison
    /// treats it as a crop); `None` when there is nothing to undo.
    fn undo(&self, image: &DynamicImage) -> Option<DynamicImage> {
        let turn = self.rotation_deg;
        if !self.mirrored && turn.abs() < Self::MIN_TURN {
            return None;
        }
        let mut img = if self.mirrored {
            image.fliph()
        } else {
            image.clone()
        };
        if turn.abs() >= Self::MIN_TURN {
            img = attacks::rotate(&img, -turn as f32);
            let (w, h) = (img.width(), img.height());
            let m = (turn.to_radians().sin().abs() * f64::from(w.max(h))).ceil() as u32 + 1;
            if 2 * m + 16 >= w.min(h) {
                return None;
            }
            img = img.crop_imm(m, m, w - 2 * m, h - 2 * m);
        }
        Some(img)
    }
}

fn unsupported(alg: &str) -> Error {
    Error::InvalidInput(format!(
        "unsupported soft-binding algorithm {alg:?} (supported: {SOFT_BINDING_ALG}, {FINGERPRINT_ALG})"
    ))
}

fn check_len(alg: &str, value: &[u8], n: usize) -> Result<()> {
    if value.len() != n {
        return Err(Error::InvalidInput(format!(
            "{alg} values are {n} bytes, got {}",
            value.len()
        )));
    }
    Ok(())
}

/// Similarity 0..100 from a Hamming distance (128 = unrelated = 0).
fn similarity(distance: u32) -> u32 {
    100u32.saturating_sub(distance.min(128) * 100 / 128)
}

/// A 1x1 PNG to verify detached manifest stores against.
fn stand_in() -> Result<Vec<u8>> {
    let mut out = Vec::new();
    DynamicImage::new_luma8(1, 1)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| Error::Decode(format!("stand-in image: {e}")))?;
    Ok(out)
}
