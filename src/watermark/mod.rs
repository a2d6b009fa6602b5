//! Watermarks: hallmark's own frequency-domain luma watermark carrying a
//! 64-bit payload, and detectors for known third-party marks.
//!
//! Not built yet: see the watermark issue.

pub mod dwtdct;
