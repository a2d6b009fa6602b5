//! `hallmark sign`'s AI-label flags (GB 45438-2025 implicit and explicit
//! labels, the propagating platform's fields) and how their outcome is
//! printed.

use hallmark::label::{self, Corner, VisibleLabel};
use hallmark::provenance::aigc::Propagation;
use hallmark::provenance::{LabelsWritten, SignOptions};

/// The label flags, flattened into `sign`'s arguments.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "AI labels (GB 45438-2025, EU AI Act Art. 50)")]
pub struct LabelArgs {
    /// Add the GB 45438-2025 implicit label with this producer name or code:
    /// the XMP property TC260:AIGC in the file (inside the signed bytes)
    /// and the same label in the manifest.
    #[arg(long, value_name = "PRODUCER")]
    gb45438: Option<String>,
    /// The label's ProduceID (default: the manifest id).
    #[arg(long, value_name = "ID", requires = "gb45438")]
    produce_id: Option<String>,
    /// As a propagating platform: fill ContentPropagator of the file's GB
    /// 45438 label, keeping the producer's fields. A signed input is
    /// re-signed with your key, its manifest kept as the parent ingredient.
    #[arg(long, value_name = "NAME", requires = "propagate_id")]
    propagator: Option<String>,
    /// The platform's PropagateID for this content.
    #[arg(long, value_name = "ID", requires = "propagator")]
    propagate_id: Option<String>,
    /// Draw a visible AI label: "AI生成" by default, or the text given with
    /// `=`, e.g. --visible-label=人工智能生成. Text height 6% of the shorter
    /// side on a contrast plate; recorded in the manifest as an action.
    #[arg(
        long,
        value_name = "TEXT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = label::DEFAULT_TEXT
    )]
    visible_label: Option<String>,
    /// Corner of the visible label: top-left, top-right, bottom-left,
    /// bottom-right (default).
    #[arg(long, value_name = "CORNER", requires = "visible_label")]
    label_corner: Option<String>,
    /// Write the implicit labels into the manifest only, not the file's XMP.
    #[arg(long)]
    no_xmp: bool,
}

impl LabelArgs {
    /// Put the flags into the signing options.
    pub fn apply(self, opts: &mut SignOptions) -> anyhow::Result<()> {
        opts.gb45438_producer = self.gb45438;
        opts.gb45438_produce_id = self.produce_id;
        opts.gb45438_propagation = match (self.propagator, self.propagate_id) {
            (Some(propagator), Some(propagate_id)) => Some(Propagation {
                propagator,
                propagate_id,
            }),
            _ => None,
        };
        opts.write_xmp = !self.no_xmp;
        if let Some(text) = self.visible_label {
            let corner = match self.label_corner {
                Some(c) => Corner::parse(&c)?,
                None => Corner::default(),
            };
            opts.visible_label = Some(VisibleLabel::new(&text, corner)?);
        }
        Ok(())
    }
}

/// Print what was written, one line each.
pub fn print(l: &LabelsWritten) {
    if let Some(g) = &l.gb45438 {
        let place = if l.xmp {
            "XMP TC260:AIGC and manifest"
        } else {
            "manifest only"
        };
        println!("gb45438      {} ({place})", g.summary());
    }
    if let Some(p) = &l.visible {
        println!(
            "visible      \"{}\" {}, text {} px = {:.1}% of {} px, contrast {:.1}:1",
            p.text,
            p.corner.as_str(),
            p.text_height,
            p.height_ratio * 100.0,
            p.short_side,
            p.contrast_ratio
        );
    }
    for n in &l.notes {
        println!("note         {n}");
    }
}
