//! Adapters: run each engine and turn its result into the report's own
//! section type. This is the only file that knows the engines' APIs; an
//! engine that has not been built (or cannot run here) yields an
//! `unavailable` section with the reason.

use std::path::Path;

use image::DynamicImage;

use super::sections::{
    ClassifierSection, DwtDctSection, ManifestSection, MetadataSection, Section, WatermarkSection,
};
use super::CheckOptions;
use crate::keys::TrustStore;
use crate::media::Format;

/// Verify the C2PA manifest (embedded, or a sidecar beside `path`).
pub(crate) fn manifest(
    _path: Option<&Path>,
    _bytes: &[u8],
    _format: Option<Format>,
    _trust: &TrustStore,
) -> Section<ManifestSection> {
    Section::unavailable("C2PA verification is not built yet")
}

/// hallmark's own watermark.
pub(crate) fn watermark(_image: &DynamicImage) -> Section<WatermarkSection> {
    Section::unavailable("watermark detection is not built yet")
}

/// The Stable Diffusion / SDXL dwtDct mark.
pub(crate) fn dwtdct(_image: &DynamicImage) -> Section<DwtDctSection> {
    Section::unavailable("dwtDct detection is not built yet")
}

/// Metadata forensics.
pub(crate) fn metadata(_bytes: &[u8]) -> Section<MetadataSection> {
    Section::unavailable("metadata forensics is not built yet")
}

/// The classifier, loaded once per [`super::Checker`].
pub(crate) struct ClassifierEngine {
    unavailable: String,
}

impl ClassifierEngine {
    pub(crate) fn new(opts: &CheckOptions) -> Self {
        let unavailable = if opts.no_classifier {
            "classifier disabled (--no-classifier)".to_string()
        } else {
            "classifier unavailable: not built yet".to_string()
        };
        ClassifierEngine { unavailable }
    }

    pub(crate) fn run(&self, _image: &DynamicImage) -> Section<ClassifierSection> {
        Section::unavailable(self.unavailable.clone())
    }
}
