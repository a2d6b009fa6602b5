//! Members of a model: each turns an image into one logit under its own
//! input contract. A single-model card is one [`PixelMember`]; a fused card
//! adds encoder members ([`super::encoder::EncoderMember`]).

use serde::Serialize;

use super::card::ModelCard;
use super::grid::{self, Crop, CropBatch, RgbView};
use super::score;
use super::Classifier;
use crate::error::{Error, Result};

/// One member's result for an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberScore {
    /// Member name.
    pub name: String,
    /// Its aggregated logit (`null` if it returned NaN).
    pub logit: Option<f64>,
    /// Crops or views it scored.
    pub crops: usize,
    /// Its photo / non-photo domain logit (higher = non-photo), when its
    /// head has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<f64>,
}

/// A model member: image -> one logit.
pub trait Member: Send + Sync {
    /// The member's name.
    fn name(&self) -> &str;
    /// Images with a shorter side are not scored by the model.
    fn min_side(&self) -> u32;
    /// Score an image (at least `min_side` pixels a side).
    fn score(&self, img: &RgbView<'_>) -> Result<MemberScore>;
}

/// A pixel-artifact model: native-resolution crop grid, one batch, one
/// logit per crop, aggregated per its card.
pub struct PixelMember {
    name: String,
    card: ModelCard,
    classifier: Box<dyn Classifier>,
}

impl std::fmt::Debug for PixelMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PixelMember")
            .field("name", &self.name)
            .field("model", &self.card.name)
            .finish_non_exhaustive()
    }
}

impl PixelMember {
    /// A member over any backend for a validated card.
    pub fn new(name: String, card: ModelCard, classifier: Box<dyn Classifier>) -> Self {
        PixelMember {
            name,
            card,
            classifier,
        }
    }

    /// Report the member under another name.
    pub fn rename(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// Its card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The crops of a `width` x `height` image (none below `min_side`).
    pub fn crops_for(&self, width: u32, height: u32) -> Vec<Crop> {
        if width.min(height) < self.card.crop.min_side {
            return Vec::new();
        }
        grid::grid(width, height, &self.card.crop)
    }

    /// The normalised batch the classifier sees.
    pub fn batch_for(&self, img: &RgbView<'_>) -> CropBatch {
        let crops = self.crops_for(img.width as u32, img.height as u32);
        grid::make_batch(img, &crops, &self.card.crop, &self.card.input)
    }
}

impl Member for PixelMember {
    fn name(&self) -> &str {
        &self.name
    }

    fn min_side(&self) -> u32 {
        self.card.crop.min_side
    }

    fn score(&self, img: &RgbView<'_>) -> Result<MemberScore> {
        let batch = self.batch_for(img);
        let logits = self.classifier.logits(&batch)?;
        if logits.len() != batch.n {
            return Err(Error::Model(format!(
                "the classifier returned {} logits for {} crops",
                logits.len(),
                batch.n
            )));
        }
        Ok(MemberScore {
            name: self.name.clone(),
            logit: score::aggregate(&logits, self.card.aggregation),
            crops: batch.n,
            domain: None,
        })
    }
}
