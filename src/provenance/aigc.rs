//! The labels AI-content law asks for, applied while signing: what `sign
//! --gb45438`, `--propagator`, `--ai-generated` and `--visible-label` do to
//! the file before its manifest is made, so the hard binding covers them.
//!
//! - Implicit labels (XMP, merged into what the file has): the GB 45438-2025
//!   `TC260:AIGC` property ([`crate::media::metadata::aigc`]) and IPTC's
//!   `Iptc4xmpExt:DigitalSourceType`, which platforms' upload pipelines
//!   read without C2PA. A producer writes Label "1", its name and a produce
//!   id (default: the manifest id, so label and manifest point at each
//!   other); a propagating platform fills `ContentPropagator` and
//!   `PropagateID` of the label it finds, keeping the producer's fields.
//! - The explicit label ([`crate::label`]): visible text drawn on the
//!   pixels, recorded as a `c2pa.edited` action whose parameters
//!   ([`EXPLICIT_LABEL_PARAM`]) say what was drawn, where, how large, and
//!   who signed for it.
//!
//! A signed input cannot take new bytes without breaking its hard binding:
//! its manifest store is removed from the working copy and the signed
//! original is recorded as the parent ingredient of the new manifest, so
//! its history (the producer's manifest) stays verifiable. With `--sidecar`
//! the image is left unchanged, so the implicit labels go into the
//! manifest only, and the result says so.

use serde_json::{json, Value};

use super::sign::{now_rfc3339, SignOptions, GENERATOR};
use crate::error::{Error, Result};
use crate::label::{self, Placement};
use crate::media::container::{rewrite, Structure};
use crate::media::metadata::{self, aigc, AigcLabel};
use crate::media::xmp_write::{self, Property, IPTC_EXT_NS};
use crate::media::Format;

/// Key of the visible-label record in the recording action's parameters.
pub const EXPLICIT_LABEL_PARAM: &str = "hallmark.explicit_label";

/// A propagating platform's fields of the GB 45438 label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagation {
    /// `ContentPropagator`: the platform's name or code.
    pub propagator: String,
    /// `PropagateID`: the platform's id for this content.
    pub propagate_id: String,
}

/// What writing the implicit labels did.
#[derive(Debug, Default)]
pub(crate) struct Implicit {
    /// The new bytes (manifest store removed), when anything was written.
    pub bytes: Option<Vec<u8>>,
    /// The GB 45438 label, when one was asked for (written to the XMP, or
    /// only to the manifest).
    pub label: Option<AigcLabel>,
    /// What could not be done, for the user.
    pub notes: Vec<String>,
}

/// The GB 45438 label `opts` asks for on `bytes`.
fn wanted_label(bytes: &[u8], opts: &SignOptions, manifest_id: &str) -> Result<Option<AigcLabel>> {
    let mut label = match &opts.gb45438_producer {
        Some(producer) => {
            if producer.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "the GB 45438 producer name is empty".into(),
                ));
            }
            let id = opts.gb45438_produce_id.as_deref().unwrap_or(manifest_id);
            if id.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "the GB 45438 produce id is empty".into(),
                ));
            }
            AigcLabel::produced(producer.trim(), id.trim())
        }
        None if opts.gb45438_propagation.is_some() => {
            let found = metadata::read(bytes)?;
            found.aigc.ok_or_else(|| {
                Error::InvalidInput(
                    "the file has no GB 45438 label to propagate; the producer adds one \
                     (hallmark sign --gb45438 PRODUCER)"
                        .into(),
                )
            })?
        }
        None => return Ok(None),
    };
    if let Some(p) = &opts.gb45438_propagation {
        if p.propagator.trim().is_empty() || p.propagate_id.trim().is_empty() {
            return Err(Error::InvalidInput(
                "--propagator and --propagate-id must both be non-empty".into(),
            ));
        }
        label.propagate(p.propagator.trim(), p.propagate_id.trim());
    }
    Ok(Some(label))
}

/// Write the implicit labels `opts` asks for into `bytes` (walked as
/// `layout`). `source_type` is the IPTC URL being signed, if any.
pub(crate) fn implicit(
    bytes: &[u8],
    layout: &Structure,
    opts: &SignOptions,
    source_type: Option<&str>,
    manifest_id: &str,
) -> Result<Implicit> {
    let label = wanted_label(bytes, opts, manifest_id)?;
    let mut out = Implicit {
        label: label.clone(),
        ..Implicit::default()
    };
    let mut props = Vec::new();
    if let Some(l) = &label {
        props.push(Property::new(
            aigc::TC260_NS,
            aigc::TC260_PREFIX,
            aigc::AIGC_PROPERTY,
            &l.to_json(),
        ));
    }
    if let Some(url) = source_type {
        props.push(Property::new(
            IPTC_EXT_NS,
            "Iptc4xmpExt",
            "DigitalSourceType",
            url,
        ));
    }
    if props.is_empty() || !opts.write_xmp {
        return Ok(out);
    }
    if opts.sidecar {
        out.notes.push(
            "--sidecar leaves the image unchanged: the labels are in the manifest only, \
             not in the file's XMP"
                .into(),
        );
        return Ok(out);
    }
    if !matches!(layout.format, Format::Jpeg | Format::Png | Format::Webp) {
        if label.is_some() {
            return Err(Error::Unsupported(format!(
                "writing the GB 45438 XMP label into {} files (JPEG, PNG and WebP are supported)",
                layout.format.mime()
            )));
        }
        out.notes.push(format!(
            "the IPTC DigitalSourceType is in the manifest only: hallmark does not write XMP into {} files",
            layout.format.mime()
        ));
        return Ok(out);
    }
    if already_set(bytes, &props) {
        // Nothing to change (e.g. re-signing hallmark's own output).
        return Ok(out);
    }
    let working = rewrite::strip_manifest(bytes)?;
    out.bytes = Some(xmp_write::set_properties(&working, &props)?);
    Ok(out)
}

/// Whether the file's XMP already holds exactly these values, once each.
fn already_set(bytes: &[u8], props: &[Property]) -> bool {
    let Ok(s) = crate::media::container::walk(bytes) else {
        return false;
    };
    let Ok(packets) = rewrite::xmp_packets(bytes, &s) else {
        return false;
    };
    let [packet] = packets.standard.as_slice() else {
        return false;
    };
    props.iter().all(|p| {
        xmp_write::property_values(packet, &p.ns, &p.local)
            .is_ok_and(|v| v.len() == 1 && v.first() == Some(&p.value))
    })
}

/// Draw the visible label `opts` asks for; `None` when none is asked.
pub(crate) fn visible(bytes: &[u8], opts: &SignOptions) -> Result<Option<(Vec<u8>, Placement)>> {
    match &opts.visible_label {
        Some(l) if opts.sidecar => Err(Error::InvalidInput(format!(
            "--sidecar leaves the image unchanged, so the visible label {:?} cannot be drawn",
            l.text
        ))),
        Some(l) => label::label_bytes(bytes, l, &opts.limits).map(Some),
        None => Ok(None),
    }
}

/// The action recording a visible label: who signed for it, what, where.
pub(crate) fn visible_label_action(p: &Placement, signer: &str) -> Value {
    json!({
        "action": "c2pa.edited",
        "when": now_rfc3339(),
        "softwareAgent": { "name": GENERATOR, "version": env!("CARGO_PKG_VERSION") },
        "description": format!(
            "Visible AI label \"{}\" added at the {} corner (GB 45438-2025 explicit label)",
            p.text,
            p.corner.as_str()
        ),
        "parameters": {
            EXPLICIT_LABEL_PARAM: {
                "text": p.text,
                "corner": p.corner.as_str(),
                "region": { "x": p.x, "y": p.y, "width": p.width, "height": p.height, "unit": "pixel" },
                "text_height": p.text_height,
                "short_side": p.short_side,
                "height_ratio": p.height_ratio,
                "contrast_ratio": (p.contrast_ratio * 100.0).round() / 100.0,
                "added_by": signer,
            }
        }
    })
}
