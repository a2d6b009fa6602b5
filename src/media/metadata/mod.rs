//! Metadata forensics: read, without trusting, the traces generators and
//! cameras leave (IPTC/XMP DigitalSourceType, GB 45438-2025 AIGC label, PNG
//! generator text chunks, EXIF Software/Make/Model).
//!
//! Not built yet: see the check/scan issue.
