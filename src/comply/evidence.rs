//! What the rules judge a file by, gathered once per file through the
//! library's own readers: the C2PA manifest as `verify` sees it, the
//! metadata as `check` reads it, and (only when a rule asks) the
//! watermarks as `watermark detect` finds them. No check is implemented
//! twice: this file only calls and keeps the results.

use std::cell::OnceCell;
use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::media::container::{self, Structure};
use crate::media::metadata::{self, MetadataReport};
use crate::media::{decode, read_file, Limits};
use crate::provenance::{sidecar, ManifestReport, Verifier};
use crate::watermark::{self, dwtdct, DetectOptions};

/// A watermark found in the pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// What was found, one line (scheme, payload or generator, p-value).
    pub what: String,
}

/// The watermark detectors' outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Marks {
    /// Marks found (empty: none).
    Checked(Vec<Mark>),
    /// The pixels could not be checked, and why.
    NotChecked(String),
}

/// Everything known about one file.
#[derive(Debug)]
pub struct Evidence {
    /// The manifest, verified (absent when there is none).
    pub manifest: ManifestReport,
    /// The metadata traces.
    pub metadata: MetadataReport,
    bytes: Vec<u8>,
    walked: Structure,
    limits: Limits,
    marks: OnceCell<Marks>,
}

impl Evidence {
    /// Read `path` once and gather the manifest (embedded, or a `.c2pa`
    /// sidecar beside it) and the metadata.
    pub fn gather(path: &Path, verifier: &Verifier, limits: &Limits) -> Result<Evidence> {
        let bytes = read_file(path, limits)?;
        let walked = container::walk(&bytes)?;
        let sidecar = if walked.has_manifest() {
            None
        } else {
            sidecar::read_beside(path)?
        };
        Self::from_walked(bytes, walked, sidecar.as_deref(), verifier, limits)
    }

    /// The same for bytes already in memory (an upload), with no sidecar.
    pub fn from_bytes(bytes: Vec<u8>, verifier: &Verifier, limits: &Limits) -> Result<Evidence> {
        let walked = container::walk(&bytes)?;
        Self::from_walked(bytes, walked, None, verifier, limits)
    }

    fn from_walked(
        bytes: Vec<u8>,
        walked: Structure,
        sidecar: Option<&[u8]>,
        verifier: &Verifier,
        limits: &Limits,
    ) -> Result<Evidence> {
        let manifest = verifier.verify_walked(&bytes, &walked, sidecar)?;
        let metadata = metadata::read_walked(&bytes, &walked);
        Ok(Evidence {
            manifest,
            metadata,
            bytes,
            walked,
            limits: *limits,
            marks: OnceCell::new(),
        })
    }

    /// The visible labels a valid manifest records (hallmark's
    /// `hallmark.explicit_label` action parameters), with who recorded
    /// them: the active manifest's, else those of its parent ingredient
    /// (a platform that re-signed a producer's labelled file).
    pub fn explicit_labels(&self) -> Vec<(&Value, String)> {
        if !self.manifest.valid {
            return Vec::new();
        }
        let own: Vec<(&Value, String)> = self
            .manifest
            .actions
            .iter()
            .filter_map(|a| a.explicit_label.as_ref())
            .map(|v| (v, "the manifest".to_string()))
            .collect();
        if !own.is_empty() {
            return own;
        }
        self.manifest
            .ingredients
            .iter()
            .filter(|i| i.relationship == "parentOf" && i.failures.is_empty())
            .flat_map(|i| {
                let who = format!(
                    "the parent manifest (signed by {})",
                    i.signer.as_deref().unwrap_or("an unnamed signer")
                );
                i.explicit_labels.iter().map(move |v| (v, who.clone()))
            })
            .collect()
    }

    /// The AI digital source type a valid manifest declares, with who
    /// declared it: the active manifest's, else its parent ingredient's
    /// (a platform that re-signed a producer's file).
    pub fn declared_ai(&self) -> Option<(String, String)> {
        if !self.manifest.valid {
            return None;
        }
        let signer = self
            .manifest
            .signer
            .as_ref()
            .map(|s| s.common_name.clone().unwrap_or_else(|| s.subject.clone()))
            .unwrap_or_else(|| "an unnamed signer".into());
        if let Some(st) = self
            .manifest
            .digital_source_type
            .as_ref()
            .filter(|st| crate::provenance::labels::is_ai(st))
        {
            return Some((st.clone(), format!("the manifest signed by {signer}")));
        }
        self.manifest
            .ingredients
            .iter()
            .filter(|i| i.relationship == "parentOf" && i.failures.is_empty())
            .find_map(|i| {
                let st = i
                    .digital_source_type
                    .as_ref()
                    .filter(|st| crate::provenance::labels::is_ai(st))?;
                let who = i.signer.as_deref().unwrap_or("an unnamed signer");
                Some((
                    st.clone(),
                    format!(
                        "the parent manifest signed by {who} (kept as an ingredient by {signer})"
                    ),
                ))
            })
    }

    /// Watermarks in the pixels (hallmark's and Stable Diffusion's dwtDct),
    /// detected on first use.
    pub fn marks(&self) -> &Marks {
        self.marks.get_or_init(|| {
            let img = match decode::decode_walked(&self.bytes, &self.walked, &self.limits) {
                Ok(img) => img,
                Err(e) => return Marks::NotChecked(format!("pixels not decoded: {e}")),
            };
            let mut found = Vec::new();
            match watermark::detect(&img, &DetectOptions::default()) {
                Ok(d) if d.detected => found.push(Mark {
                    what: format!(
                        "hallmark watermark, payload {} (p = {:.1e})",
                        d.payload.map(|p| format!("{p:016x}")).unwrap_or_default(),
                        d.p_value
                    ),
                }),
                Ok(_) => {}
                Err(e) => return Marks::NotChecked(format!("watermark detection failed: {e}")),
            }
            if let Ok(Some(m)) = dwtdct::detect(&img) {
                found.push(Mark {
                    what: format!(
                        "{} mark of {} (p = {:.1e})",
                        m.scheme, m.generator, m.p_value
                    ),
                });
            }
            Marks::Checked(found)
        })
    }
}
