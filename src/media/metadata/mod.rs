//! Metadata forensics: read, without trusting, the traces generators and
//! cameras leave (IPTC/XMP DigitalSourceType, the GB 45438-2025 `AIGC`
//! implicit label, PNG generator text chunks, EXIF Software/Make/Model, C2PA
//! presence).
//!
//! [`read`] walks the container (JPEG, PNG, WebP, TIFF; a raw XMP packet in
//! anything else) without decoding pixels and returns a [`MetadataReport`]:
//! one [`Finding`] per trace, naming the field, its (truncated) value, the
//! generator when known, and what it [`Indicates`]. Metadata is the weakest
//! signed-less evidence: anyone can strip or forge it, so a finding is a
//! claim made by the file, and the absence of findings proves nothing. C2PA
//! manifests are only detected here; `provenance` verifies them.
//!
//! Hostile input: walkers are bounds-checked, compressed text is inflated
//! with a cap, XMP and EXIF readers cap what they collect; damaged
//! containers give the findings read so far plus a warning.

mod container;
mod exif;
mod generators;
mod xmp;

use serde::Serialize;

pub use generators::AigcLabel;

use crate::error::{Error, Result};
use crate::media::sniff::Format;
use container::Item;

/// Longest value kept in a finding, in characters.
pub const MAX_VALUE_CHARS: usize = 240;

/// What a trace suggests about the image's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Indicates {
    /// Generated or composited with generative AI.
    Ai,
    /// Captured by a camera or scanner.
    Capture,
    /// Edited by a human with an editor.
    Edited,
    /// Informational; says nothing either way.
    Unknown,
}

/// One metadata trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Where and what: e.g. `XMP Iptc4xmpExt:DigitalSourceType`, `PNG tEXt parameters`.
    pub field: String,
    /// The value as written, truncated to [`MAX_VALUE_CHARS`].
    pub value: String,
    /// The generator or tool the trace names, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// What the trace suggests.
    pub indicates: Indicates,
}

/// Everything [`read`] found in a file's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetadataReport {
    /// The container's media type (`image/png`, ...).
    pub format: Option<&'static str>,
    /// A C2PA manifest store is embedded (presence only, not verified).
    pub c2pa_present: bool,
    /// The IPTC DigitalSourceType code, when declared (e.g.
    /// `trainedAlgorithmicMedia`).
    pub digital_source_type: Option<String>,
    /// The GB 45438-2025 implicit label, when present.
    pub aigc: Option<AigcLabel>,
    /// Every trace, in file order.
    pub findings: Vec<Finding>,
    /// Damage met while reading (the findings before it are kept).
    pub warnings: Vec<String>,
}

impl MetadataReport {
    /// Some trace claims the image is AI-generated.
    pub fn indicates_ai(&self) -> bool {
        self.findings.iter().any(|f| f.indicates == Indicates::Ai)
    }

    /// The first generator named by an AI trace, if any.
    pub fn ai_generator(&self) -> Option<&str> {
        self.findings
            .iter()
            .filter(|f| f.indicates == Indicates::Ai)
            .find_map(|f| f.generator.as_deref())
    }

    /// Findings that indicate `what`.
    pub fn findings_indicating(&self, what: Indicates) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.indicates == what)
    }

    fn push(
        &mut self,
        field: impl Into<String>,
        value: &str,
        generator: Option<String>,
        indicates: Indicates,
    ) {
        let field = field.into();
        let value = truncate(value);
        if self
            .findings
            .iter()
            .any(|f| f.field == field && f.value == value)
        {
            return; // the same claim written twice (e.g. EXIF and XMP copies)
        }
        self.findings.push(Finding {
            field,
            value,
            generator,
            indicates,
        });
    }
}

/// Read the metadata of an image file's bytes. Errors only when the format
/// is not recognised at all; damaged containers give partial results.
pub fn read(bytes: &[u8]) -> Result<MetadataReport> {
    let format = Format::sniff(bytes)
        .ok_or_else(|| Error::Unsupported("not a recognised image format".into()))?;
    let walk = match format {
        Format::Jpeg => container::jpeg(bytes),
        Format::Png => container::png(bytes),
        Format::Webp => container::webp(bytes),
        Format::Tiff => container::tiff(bytes),
        Format::Gif | Format::Bmp | Format::Heif => container::raw_xmp(bytes),
    };
    let mut report = MetadataReport {
        format: Some(format.mime()),
        warnings: walk.warnings,
        ..MetadataReport::default()
    };
    let software = walk.items.iter().find_map(|i| match i {
        Item::Text { key, value, .. } if key == "Software" => Some(value.clone()),
        _ => None,
    });
    for item in &walk.items {
        match item {
            Item::Exif { data, location } => read_exif(&mut report, data, location),
            Item::Xmp { text, location } => read_xmp(&mut report, text, location),
            Item::Text {
                key,
                value,
                location,
            } => read_text(&mut report, key, value, location, software.as_deref()),
            Item::C2pa { location } => {
                report.c2pa_present = true;
                report.push(
                    format!("{location} C2PA manifest store"),
                    "present (verify with `hallmark verify`)",
                    None,
                    Indicates::Unknown,
                );
            }
        }
    }
    Ok(report)
}

fn read_exif(report: &mut MetadataReport, data: &[u8], location: &str) {
    let Some(f) = exif::parse(data) else {
        report
            .warnings
            .push(format!("{location}: not a TIFF structure"));
        return;
    };
    let camera = f.make.is_some() || f.model.is_some();
    let make_model = [f.make.as_deref(), f.model.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let capture_hint = if camera {
        Indicates::Capture
    } else {
        Indicates::Unknown
    };
    if let Some(v) = &f.make {
        report.push(
            format!("{location} Make"),
            v,
            Some(make_model.clone()),
            Indicates::Capture,
        );
    }
    if let Some(v) = &f.model {
        report.push(
            format!("{location} Model"),
            v,
            Some(make_model.clone()),
            Indicates::Capture,
        );
    }
    if let Some(v) = &f.lens_model {
        report.push(format!("{location} LensModel"), v, None, Indicates::Capture);
    }
    if let Some(v) = &f.date_time_original {
        report.push(
            format!("{location} DateTimeOriginal"),
            v,
            None,
            capture_hint,
        );
    }
    if f.has_maker_note && camera {
        report.push(
            format!("{location} MakerNote"),
            "present",
            Some(make_model.clone()),
            Indicates::Capture,
        );
    }
    if let Some(v) = &f.software {
        let (ind, gen) = match generators::software(v) {
            Some((i, g)) => (i, Some(g.to_string())),
            None => (Indicates::Unknown, None),
        };
        report.push(format!("{location} Software"), v, gen, ind);
    }
    for (name, v) in [
        ("Artist", &f.artist),
        ("ImageDescription", &f.image_description),
        ("UserComment", &f.user_comment),
    ] {
        if let Some(v) = v {
            read_text(report, name, v, location, f.software.as_deref());
        }
    }
    if let Some(x) = &f.xmp {
        read_xmp(report, x, location);
    }
}

fn read_xmp(report: &mut MetadataReport, text: &str, location: &str) {
    let props = xmp::properties(text);
    let mut struct_label = AigcLabel::default();
    for p in &props {
        let field = format!("{location} {}", p.name);
        match p.local() {
            "DigitalSourceType" => {
                let (code, ind) = generators::digital_source_type(&p.value);
                if report.digital_source_type.is_none() || ind == Indicates::Ai {
                    report.digital_source_type = Some(code);
                }
                report.push(field, &p.value, None, ind);
            }
            "AIGC" => read_aigc(report, &field, &p.value),
            "CreatorTool" | "Software" | "softwareAgent" | "Credit" => {
                let (ind, gen) = match generators::software(&p.value) {
                    Some((i, g)) => (i, Some(g.to_string())),
                    None => (Indicates::Unknown, None),
                };
                report.push(field, &p.value, gen, ind);
            }
            "Make" | "Model" => {
                report.push(field, &p.value, Some(p.value.clone()), Indicates::Capture)
            }
            "provenance" if p.value.contains("c2pa") => {
                report.push(field, &p.value, None, Indicates::Unknown)
            }
            "description" | "UserComment" | "ImageDescription" => {
                if let Some((ind, gen)) = generators::text_chunk(p.local(), &p.value, None) {
                    report.push(field, &p.value, Some(gen), ind);
                }
            }
            local => {
                // GB 45438 label written as an XMP struct (AIGC/Label, ...).
                struct_label.set(local, &p.value);
            }
        }
    }
    if struct_label.content_producer.is_some() || struct_label.produce_id.is_some() {
        let summary = struct_label.summary();
        read_aigc_label(report, &format!("{location} AIGC"), struct_label, &summary);
    }
}

fn read_aigc(report: &mut MetadataReport, field: &str, value: &str) {
    match AigcLabel::from_json(value) {
        Some(label) => read_aigc_label(report, field, label, value),
        None => {
            report
                .warnings
                .push(format!("{field}: AIGC value is not the GB 45438 JSON form"));
            report.push(field, value, None, Indicates::Unknown);
        }
    }
}

fn read_aigc_label(report: &mut MetadataReport, field: &str, label: AigcLabel, raw: &str) {
    let ind = label.indicates();
    let gen = label
        .content_producer
        .clone()
        .map(|p| format!("{p} (GB 45438 ContentProducer)"));
    report.push(format!("{field} (GB 45438-2025)"), raw, gen, ind);
    if report.aigc.is_none() {
        report.aigc = Some(label);
    }
}

fn read_text(
    report: &mut MetadataReport,
    key: &str,
    value: &str,
    location: &str,
    software: Option<&str>,
) {
    let field = format!("{location} {key}");
    // GB 45438 label under its own key, or its JSON under any key.
    let aigc_json = value.contains("ContentProducer") && AigcLabel::from_json(value).is_some();
    if key.eq_ignore_ascii_case("AIGC") || aigc_json {
        read_aigc(report, &field, value);
        return;
    }
    if let Some(t) = value
        .trim()
        .strip_prefix("http://cv.iptc.org/newscodes/digitalsourcetype/")
    {
        let (code, ind) = generators::digital_source_type(t);
        report.digital_source_type.get_or_insert(code);
        report.push(field, value, None, ind);
        return;
    }
    match generators::text_chunk(key, value, software) {
        Some((ind, gen)) => report.push(field, value, Some(gen), ind),
        // Other PNG text is shown for context; EXIF text only when it matched.
        None if location.starts_with("PNG") || location.starts_with("JPEG COM") => {
            report.push(field, value, None, Indicates::Unknown)
        }
        None => {}
    }
}

fn truncate(v: &str) -> String {
    let v = v.trim();
    match v.char_indices().nth(MAX_VALUE_CHARS) {
        Some((i, _)) => format!("{}…", v.get(..i).unwrap_or_default()),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundaries() {
        let long = "é".repeat(500);
        let t = truncate(&long);
        assert_eq!(t.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("  short "), "short");
    }

    #[test]
    fn unknown_bytes_are_unsupported() {
        assert!(matches!(read(b"hello"), Err(Error::Unsupported(_))));
    }
}
