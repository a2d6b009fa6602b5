//! Provenance: sign and verify C2PA manifests (Content Credentials) with
//! Ed25519 keys, through the `c2pa` reference SDK (pinned 0.90.22).
//!
//! # API
//! ```no_run
//! use std::path::Path;
//! use hallmark::keys::TrustStore;
//! use hallmark::provenance::{self, SignOptions};
//!
//! # fn main() -> hallmark::Result<()> {
//! // Sign: an AI-generated image, with the key from `hallmark keygen`.
//! let mut opts = SignOptions::new("keys/demo.key");
//! opts.source_type = Some("trainedAlgorithmicMedia".into());
//! opts.author = Some("Ada".into());
//! let signed = provenance::sign(Path::new("in.png"), Path::new("out.png"), &opts)?;
//! println!("{}", signed.manifest_id);
//!
//! // Verify: absent manifests are Ok(report) with present = false; only
//! // unreadable files are errors.
//! let trust = TrustStore::load_dir(Path::new("keys"))?;
//! let report = provenance::verify_path(Path::new("out.png"), &trust)?;
//! assert!(report.valid);
//! println!("{}", serde_json::to_string(&report).unwrap_or_default());
//! # Ok(()) }
//! ```
//! For many files build one [`Verifier`] and call [`Verifier::verify_path`]
//! (it is `Send + Sync`); [`sign_bytes`] and [`Verifier::verify_bytes`] work
//! in memory.
//!
//! # Files
//! - [`sign`](mod@sign): the manifest we write and how it is signed.
//! - [`signer`]: loading and checking the key and certificate chain.
//! - [`labels`]: IPTC digital source types, the GB 45438-2025 AIGC label.
//! - [`aigc`]: the AI labels written while signing (GB 45438 XMP label,
//!   IPTC DigitalSourceType in XMP, the visible label and its action).
//! - [`verify`](mod@verify): reading, validating, trust.
//! - [`binding`]: our own check that a data hash's exclusions sit exactly on
//!   the manifest store (closes the hole fixed upstream in c2pa 0.92).
//! - [`sidecar`]: reading `FILE.c2pa` beside an image, size-limited.
//! - Where the store sits in a file, and whether the file is whole, comes
//!   from the one container layer, [`crate::media::container`].
//! - [`facts`]: what the report says about a manifest and its ingredients.
//! - [`report`]: the report type, its JSON and its plain-language text.
//! - [`thumbnail`](mod@thumbnail): the claim thumbnail a manifest may carry.
//!
//! # Hazards
//! - "valid" means the signature, the hard binding and the structure check
//!   out; it says nothing about whether the signer is honest. "trusted"
//!   means the signer chains to a root in the trust store (or its own
//!   certificate or key is there). A valid manifest from an unknown signer
//!   is exit 0 for `verify` unless `--require-trusted`.
//! - Without a timestamp authority the signing time is only what the signer
//!   states (the actions' `when`); hallmark never contacts the network.
//! - Stripping the manifest makes a file "absent", not "invalid": absence
//!   of credentials proves nothing (the watermark is what survives).

pub mod aigc;
pub mod binding;
pub mod facts;
pub mod labels;
pub mod report;
pub mod sidecar;
pub mod sign;
pub mod signer;
pub mod thumbnail;
pub mod verify;

pub use report::{
    ActionReport, IngredientReport, ManifestReport, SignerReport, Source, State, StatusReport,
};
pub use sign::{
    sign, sign_bytes, sign_prepared, sign_prepared_then, LabelsWritten, SignOptions, Signed,
    SignedBytes,
};
pub use thumbnail::{thumbnail, Thumbnail};
pub use verify::{verify_path, Verifier};
