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
//!
//! ## Layering
//! Dependencies flow one way: `report`/`scan` -> engines (`provenance`,
//! `watermark`, `detect`) -> `keys`, `media`. Engines never import each
//! other; the library never imports the CLI.

pub mod atomic;
pub mod detect;
pub mod error;
pub mod keys;
pub mod media;
pub mod provenance;
pub mod report;
pub mod scan;
pub mod watermark;

pub use error::{Error, Result};
