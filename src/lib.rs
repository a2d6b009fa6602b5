//! # hallmark
//!
//! Content provenance and synthetic-media detection for images. hallmark
//! answers a newsroom's question "where does this image come from, and was it
//! made by AI?" with four kinds of evidence, strongest first:
//!
//! | evidence | module |
//! |---|---|
//! | signed C2PA provenance manifest (Ed25519) | [`provenance`] |
//! | invisible frequency-domain watermark | [`watermark`] |
//! | metadata traces (IPTC, GB 45438 AIGC label, generator chunks, EXIF) | [`media::metadata`] |
//! | pixel classifier (ONNX, calibrated) | [`detect`] |
//!
//! [`report`] fuses them into one verdict and [`scan`] runs that over batches.
//! [`credentials`] ties a watermark to a manifest (durable Content
//! Credentials). [`comply`] judges a file against AI-labelling law
//! (GB 45438-2025, EU AI Act Art. 50); [`label`] draws the visible AI
//! label that law asks for.
//!
//! ## Layering
//! Dependencies flow one way: `scan` -> `report` -> `credentials` ->
//! engines (`provenance`, `watermark`, `detect`) -> `keys`, `media`.
//! `comply` sits beside `report`, above the engines; `label` (drawing the
//! visible label) is a leaf beside `media`, used by `provenance` when it
//! signs.
//! Engines never import each other (what ties a watermark to a manifest
//! lives in `credentials`); `media` imports none of them; the library never
//! imports the CLI.

pub mod atomic;
pub mod comply;
pub mod credentials;
pub mod detect;
pub mod error;
pub mod keys;
pub mod label;
pub mod media;
pub mod outputs;
pub mod provenance;
pub mod report;
pub mod scan;
#[cfg(feature = "serve")]
pub mod serve;
pub mod watermark;

pub use error::{Error, Result};
