//! Provenance: sign and verify C2PA manifests (Content Credentials) with
//! Ed25519 keys, through the `c2pa` reference SDK.
//!
//! Not built yet: see the provenance issue.
