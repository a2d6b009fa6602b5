//! The fused report: manifest, watermark, metadata and classifier evidence
//! combined into one verdict.
//!
//! Not built yet: see the check/scan issue.
