//! Watermarks: hallmark's own frequency-domain luma watermark carrying a
//! 64-bit payload, and detectors for known third-party marks.
//!
//! # Scheme
//! A key-seeded 128x128 tile, defined by its DFT coefficients in a
//! mid-frequency annulus, carries a payload-independent pilot and the
//! payload (64 bits + CRC-24, scrambled, convolutionally coded at rate 1/3,
//! 3 coefficients per coded bit, sign-coded). The tile is repeated over the
//! image at a working resolution reached by halving until the short side is
//! under 768 pixels (smaller images are marked at full resolution), shaped by a perceptual
//! mask (local luma activity to the power 0.7, as contrast masking goes) and
//! scaled so PSNR is about 40.5 dB. On small images the embedder then reads
//! the chips back as the detector will and re-weights the ones the image's
//! own content works against (informed embedding, same energy).
//!
//! Detection first screens the image ([`screen`]): on a luma plane of at
//! most the working area (a quarter of it for larger images) it looks for
//! the mark's spectral comb over every scale and rotation, and for the
//! pilot at the embedded geometry; an image showing neither (most unmarked
//! images) is reported absent without the full search. The full search resamples to the working
//! resolution, whitens the luma,
//! estimates the tile lattice (scale, rotation) by matching the mark's
//! known spectral comb over a log-polar grid and from autocorrelation peaks
//! (after first trying the unchanged geometry), folds the image modulo the
//! lattice so all tiles add up, finds the orientation and cyclic offset by
//! phase-only cross-correlation with the pilot, and Viterbi-decodes the soft
//! chips. The p-value combines the pilot peak (corrected for every offset,
//! orientation and lattice tried) with the CRC.
//!
//! Files: [`key`] (secret keys), [`pattern`] (tile layout), [`coding`] (CRC, code, Viterbi),
//! [`plane`] (luma, resampling, filters), [`mod@embed`] (mask, strength),
//! [`screen`] (first stage), [`autocorr`] (whitened power spectrum and
//! autocorrelation), [`sync`] (lattice from the autocorrelation),
//! [`template`] (lattice by comb matching), [`fold`] (tile folding),
//! [`mod@detect`] (correlation, decoding, p-value), [`stats`], [`attacks`]
//! (for tests and benchmarks).

pub mod attacks;
pub mod autocorr;
pub mod coding;
pub mod detect;
pub mod dwtdct;
pub mod embed;
pub mod fft2;
pub mod fold;
pub mod key;
pub mod pattern;
pub mod plane;
pub mod prng;
pub mod screen;
pub mod stats;
pub mod sync;
pub mod template;

use image::DynamicImage;

use crate::error::Result;

/// The project's default (public) watermark key: anyone may detect
/// hallmark marks made with it, and anyone can forge one. Use a secret key
/// ([`key::key_from_file`], `--wm-key FILE`) for private marks.
pub const DEFAULT_KEY: u64 = 0x4841_4C4C_4D41_524B;
/// Default detection threshold on the p-value (false-positive probability).
pub const DEFAULT_THRESHOLD: f64 = 1e-6;
/// Smallest side `embed` accepts.
pub const MIN_EMBED_SIDE: usize = 256;
/// Short side of the working resolution, pixels.
pub const WORK_SIDE: usize = 384;

/// Options for [`embed()`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedOptions {
    /// Strength multiplier (1.0: about 40.5 dB PSNR).
    pub strength: f32,
    /// Watermark key.
    pub key: u64,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            strength: 1.0,
            key: DEFAULT_KEY,
        }
    }
}

/// Options for [`detect()`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Watermark key.
    pub key: u64,
    /// Largest p-value reported as detected.
    pub threshold: f64,
    /// Run the first-stage screen ([`screen`]), which turns away images
    /// with no sign of a tiled mark before the full search. Off, every
    /// image gets the full search (slower; for measuring the screen).
    pub screen: bool,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            key: DEFAULT_KEY,
            threshold: DEFAULT_THRESHOLD,
            screen: true,
        }
    }
}

/// What [`detect()`] found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detection {
    /// A payload was decoded with a valid CRC at p-value <= the threshold.
    pub detected: bool,
    /// The payload, as 16 hex digits, when detected.
    #[serde(serialize_with = "ser_payload")]
    pub payload: Option<u64>,
    /// Probability that an unmarked image gives evidence this strong: the
    /// pilot peak corrected for the search, times the CRC's chance when the
    /// CRC matched.
    pub p_value: f64,
    /// Normalised pilot correlation at the peak (1.0 for a perfect mark).
    pub correlation: f64,
    /// The pilot peak in standard deviations of the correlation surface.
    pub z_score: f64,
    /// Estimated tile period relative to the embedded one (working pixels).
    pub scale: f64,
    /// Estimated rotation of the tile grid, degrees.
    pub rotation_deg: f64,
    /// Whether the image was found mirrored relative to the marked one.
    pub mirrored: bool,
    /// Cyclic offset of the tile, in tile pixels.
    pub offset: [f64; 2],
    /// Coded bits the error-correcting code repaired (when the CRC matched).
    pub bits_corrected: Option<usize>,
    /// Whether the decoded payload's CRC matched.
    pub crc_ok: bool,
    /// Lattice hypotheses examined (0 when the first-stage screen turned
    /// the image away, or it was too small to examine).
    pub lattices_tried: usize,
}

fn ser_payload<S: serde::Serializer>(
    p: &Option<u64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(v) => s.serialize_str(&format!("{v:016x}")),
        None => s.serialize_none(),
    }
}

impl Detection {
    /// Nothing found.
    pub fn absent() -> Self {
        Detection {
            detected: false,
            payload: None,
            p_value: 1.0,
            correlation: 0.0,
            z_score: 0.0,
            scale: 0.0,
            rotation_deg: 0.0,
            mirrored: false,
            offset: [0.0, 0.0],
            bits_corrected: None,
            crc_ok: false,
            lattices_tried: 0,
        }
    }
}

/// Downscale factor to the working resolution for a `w` x `h` image: a power
/// of two, so that the short side lands in [`WORK_SIDE`, 2 x `WORK_SIDE`)
/// (1 for smaller images: never upscaled). Powers of two keep the tile
/// period unchanged after crops that stay within a level and after exact
/// halvings, so the detector's first guess (the unchanged lattice, or twice
/// or half its period) often needs no search.
pub fn working_factor(w: usize, h: usize) -> usize {
    let mut f = 1usize;
    while w.min(h) / (2 * f) >= WORK_SIDE {
        f *= 2;
    }
    f
}

/// Working resolution for a `w` x `h` image (see [`working_factor`]).
pub fn working_size(w: usize, h: usize) -> (usize, usize) {
    let f = working_factor(w, h);
    ((w / f).max(1), (h / f).max(1))
}

/// Embed `payload` as hallmark's invisible watermark. Refuses images under
/// [`MIN_EMBED_SIDE`] on a side or too flat to carry the mark invisibly.
pub fn embed(img: &DynamicImage, payload: u64, opts: &EmbedOptions) -> Result<DynamicImage> {
    embed::embed(img, payload, opts)
}

/// Look for hallmark's watermark and decode its payload.
pub fn detect(img: &DynamicImage, opts: &DetectOptions) -> Result<Detection> {
    detect::detect(img, opts)
}

/// Parse a 16-hex-digit payload.
pub fn parse_payload(s: &str) -> Result<u64> {
    let t = s.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.len() != 16 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(crate::Error::InvalidInput(format!(
            "payload must be 16 hex digits, got {s:?}"
        )));
    }
    u64::from_str_radix(t, 16)
        .map_err(|e| crate::Error::InvalidInput(format!("payload {s:?}: {e}")))
}

/// PSNR (dB) between two images of equal size, over their colour channels.
pub fn psnr(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (x, y) = (a.to_rgb8(), b.to_rgb8());
    if x.dimensions() != y.dimensions() {
        return 0.0;
    }
    let se: f64 = x
        .as_raw()
        .iter()
        .zip(y.as_raw())
        .map(|(p, q)| (f64::from(*p) - f64::from(*q)).powi(2))
        .sum();
    let mse = se / x.as_raw().len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}
