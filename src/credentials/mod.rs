//! Durable Content Credentials: what ties a watermark to a C2PA manifest.
//!
//! This module sits one floor above the engines: it combines
//! [`provenance`](crate::provenance) (the signed manifest) and
//! [`watermark`](crate::watermark) (the payload that survives stripping),
//! which never import each other.
//!
//! # Files
//! - [`binding`]: the `c2pa.soft-binding` assertion hallmark writes and how
//!   to read the payload a manifest declares.
//! - [`durable`]: signing with a watermark whose payload is derived from the
//!   manifest id ([`sign_durable`]).

pub mod binding;
pub mod durable;
pub mod fingerprint;
pub mod record;
pub mod recover;
pub mod registry;

pub use binding::{declared_payload, FINGERPRINT_ALG, SOFT_BINDING_ALG, SOFT_BINDING_LABEL};
pub use durable::{payload_for, sign_durable, sign_recorded, Durable, SignedRecorded};
pub use record::{Binding, Prepared, Record, RecordSummary};
pub use recover::{Found, Recovered, Recovery, Resolver};
pub use registry::{open as open_registry, Create, Registry, Stored};
