//! Detector for invisible-watermark's `dwtDct` mark, as Stable Diffusion and
//! SDXL embed it (decoded from the published algorithm, PyPI
//! `invisible-watermark` 0.2, `imwatermark/maxDct.py`).
//!
//! ## The scheme being read
//! The image is converted BGR -> YUV with OpenCV's coefficients; only the U
//! channel is marked (scale 36; Y has scale 0 and V is never visited). The
//! top-left `h/4*4 x w/4*4` pixels get a one-level Haar DWT; its LL band is
//! cut in 4x4 blocks (8x8 pixels each), visited in raster order, block `k`
//! carrying message bit `k mod n`. In each block the largest-magnitude LL
//! coefficient other than the first is quantised with step 36 so that
//! `|c| mod 36` is 9 for a 0 bit and 27 for a 1 bit (despite the name, no DCT
//! is applied in 0.2). Decoding reads `|c| mod 36` at the same arg-max
//! position and votes per bit.
//!
//! ## How the generators call it (the "variants")
//! * SD 1.x (CompVis `txt2img.py`) and SD 2.x (Stability `txt2img.py`): RGB ->
//!   BGR uint8, the bytes of `"StableDiffusionV1"` / `"SDV2"` (runwayml's
//!   inpainting script: `"StableDiffusionV1-Inpainting"`) -> [`Variant::BgrU8`].
//! * SDXL via diffusers `StableDiffusionXLWatermarker`: a fixed 48-bit message
//!   on a *float32 RGB* array handed over as if BGR. OpenCV then swaps red and
//!   blue and uses a chroma offset of 0.5 instead of 128, so the mark lives
//!   in `0.492 (R - Y') + 0.5` (signed), not in the U a plain decoder reads:
//!   [`Variant::RgbF32`]. The reference decoder misses most SDXL images for
//!   this reason; we read each variant the way it was written.
//!
//! ## Decision
//! Each block gives a soft vote, a triangle wave in `r` (+1 at r = 27, -1
//! at r = 9, 0 half-way); votes are summed per bit and the sign is the bit. The
//! number `k` of the `n` message bits that agree is tested against
//! Binomial(n, 1/2) (an unmarked image decodes coin flips); a second test
//! weighs each bit by its vote's confidence (a Hoeffding bound
//! that also cancels any bias common to all bits). The smaller tail is
//! multiplied by the number of tests: 2 statistics x the (message, variant)
//! hypotheses tried, each message only in the variants its generator's code
//! uses (Bonferroni). A mark is reported only when that corrected
//! false-positive probability is at most [`P_THRESHOLD`]. The mark is fragile
//! by design of the original: JPEG with 4:2:0 chroma subsampling, crops,
//! resizes and colour changes destroy it, so absence proves nothing.

use image::DynamicImage;
use serde::Serialize;

use crate::error::Result;

/// Quantisation step invisible-watermark uses for the U channel.
const SCALE: f64 = 36.0;

/// Largest corrected false-positive probability reported as a detection.
pub const P_THRESHOLD: f64 = 1e-6;

/// Scheme name used in reports.
pub const SCHEME: &str = "invisible-watermark dwtDct";

/// The 48-bit message SDXL embeds (diffusers / Stability generative-models
/// `WATERMARK_MESSAGE`), most significant bit first.
pub const SDXL_MESSAGE: u64 = 0b1011_0011_1110_1100_1001_0000_0111_1011_1011_0001_1001_1110;

/// How the generator handed its pixels to invisible-watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// BGR uint8, as the package documents (SD 1.x / 2.x reference scripts).
    BgrU8,
    /// RGB uint8 handed over as BGR (red and blue swapped).
    RgbU8,
    /// BGR float32 in 0..255 (OpenCV's chroma offset becomes 0.5).
    BgrF32,
    /// RGB float32 handed over as BGR: diffusers' SDXL watermarker.
    RgbF32,
}

impl Variant {
    /// Every variant, in the order they are tried.
    pub const ALL: [Variant; 4] = [
        Variant::BgrU8,
        Variant::RgbU8,
        Variant::BgrF32,
        Variant::RgbF32,
    ];

    fn index(self) -> usize {
        match self {
            Variant::BgrU8 => 0,
            Variant::RgbU8 => 1,
            Variant::BgrF32 => 2,
            Variant::RgbF32 => 3,
        }
    }
}

/// A message a known generator embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMessage {
    /// Generator named in reports.
    pub generator: &'static str,
    /// The message as text (bytes messages) or hex (bit messages).
    pub message: &'static str,
    /// The bits, in embedding order.
    pub bits: Vec<bool>,
    /// How this generator's code hands pixels to the embedder.
    pub variants: &'static [Variant],
}

/// The messages this detector looks for.
pub fn known_messages() -> Vec<KnownMessage> {
    let bytes_bits = |s: &str| -> Vec<bool> {
        s.bytes()
            .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
            .collect()
    };
    vec![
        KnownMessage {
            generator: "Stable Diffusion XL (invisible-watermark dwtDct)",
            message: "b3ec907bb19e",
            bits: (0..48)
                .rev()
                .map(|i| (SDXL_MESSAGE >> i) & 1 == 1)
                .collect(),
            // diffusers: RGB float; Stability's sgm WatermarkEmbedder: BGR float.
            variants: &[Variant::RgbF32, Variant::BgrF32],
        },
        KnownMessage {
            generator: "Stable Diffusion 1.x (invisible-watermark dwtDct)",
            message: "StableDiffusionV1",
            bits: bytes_bits("StableDiffusionV1"),
            variants: &[Variant::BgrU8],
        },
        KnownMessage {
            generator: "Stable Diffusion 2.x (invisible-watermark dwtDct)",
            message: "SDV2",
            bits: bytes_bits("SDV2"),
            variants: &[Variant::BgrU8],
        },
        KnownMessage {
            generator: "Stable Diffusion 1.x inpainting (invisible-watermark dwtDct)",
            message: "StableDiffusionV1-Inpainting",
            bits: bytes_bits("StableDiffusionV1-Inpainting"),
            variants: &[Variant::BgrU8],
        },
    ]
}

/// A third-party watermark found in an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThirdPartyMark {
    /// The generator the message belongs to.
    pub generator: String,
    /// The watermarking scheme (`invisible-watermark dwtDct`).
    pub scheme: &'static str,
    /// The message matched (text or hex).
    pub message: String,
    /// How the pixels were handed to the embedder.
    pub variant: Variant,
    /// Message bits decoded equal to the expected message.
    pub bits_agree: usize,
    /// Message length in bits.
    pub bits_total: usize,
    /// `bits_agree / bits_total`.
    pub bit_agreement: f64,
    /// Probability that an unmarked image agrees this well with any of the
    /// messages tried (binomial tail times the number of hypotheses).
    pub p_value: f64,
}

/// Per-bit votes decoded from one image for one message length and variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The bits invisible-watermark's own decoder returns (hard votes, mean
    /// score > 0.498 gives 1), for cross-checking against the package.
    pub reference_bits: Vec<bool>,
    /// Summed soft votes per bit (positive: 1).
    pub soft: Vec<f64>,
    /// Blocks read.
    pub blocks: usize,
}

impl Decoded {
    /// The bits by soft vote (a zero sum counts as 0).
    pub fn bits(&self) -> Vec<bool> {
        self.soft.iter().map(|s| *s > 0.0).collect()
    }
}

/// Look for the known generator messages; `Some` only for a detection at a
/// corrected false-positive probability <= [`P_THRESHOLD`].
pub fn detect(image: &DynamicImage) -> Result<Option<ThirdPartyMark>> {
    Ok(scan(image)?
        .into_iter()
        .next()
        .filter(|m| m.p_value <= P_THRESHOLD))
}

/// Score every (message, variant) hypothesis, best (smallest p-value) first,
/// detections or not: for diagnostics and false-positive surveys.
pub fn scan(image: &DynamicImage) -> Result<Vec<ThirdPartyMark>> {
    let messages = known_messages();
    let lengths: Vec<usize> = messages.iter().map(|m| m.bits.len()).collect();
    let mut want = [false; 4];
    for v in messages.iter().flat_map(|m| m.variants) {
        want[v.index()] = true;
    }
    let Some(decoded) = decode_lengths(image, &lengths, want, MAX_BLOCKS, false) else {
        return Ok(Vec::new());
    };
    // Each hypothesis is tested with two statistics (hard and soft).
    let hypotheses = 2.0 * messages.iter().map(|m| m.variants.len()).sum::<usize>() as f64;
    let mut out = Vec::new();
    for (mi, msg) in messages.iter().enumerate() {
        for &variant in msg.variants {
            let d = &decoded[variant.index()][mi];
            if d.blocks < msg.bits.len() {
                continue; // not every bit was embedded even once
            }
            let agree = d
                .bits()
                .iter()
                .zip(&msg.bits)
                .filter(|(a, b)| a == b)
                .count();
            let n = msg.bits.len();
            out.push(ThirdPartyMark {
                generator: msg.generator.to_string(),
                scheme: SCHEME,
                message: msg.message.to_string(),
                variant,
                bits_agree: agree,
                bits_total: n,
                bit_agreement: agree as f64 / n as f64,
                p_value: (binomial_tail(n, agree).min(soft_tail(&d.soft, &msg.bits)) * hypotheses)
                    .min(1.0),
            });
        }
    }
    out.sort_by(|a, b| a.p_value.total_cmp(&b.p_value));
    Ok(out)
}

/// Decode `nbits` bits under one variant, over every block and bit-exact with
/// the package's decoder (for tests and diagnostics; [`scan`] is faster).
/// `None` when the image has no colour or is too small to hold one block.
pub fn decode(image: &DynamicImage, nbits: usize, variant: Variant) -> Option<Decoded> {
    let mut want = [false; 4];
    want[variant.index()] = true;
    let mut all = decode_lengths(image, &[nbits], want, usize::MAX, true)?;
    let mut per_variant = std::mem::take(&mut all[variant.index()]);
    per_variant.pop()
}

/// Blocks read at most per image (about 2 MP): larger images are sampled on
/// evenly spaced block rows, which keeps detection far below decode time
/// while leaving hundreds of votes per bit.
const MAX_BLOCKS: usize = 32_768;

/// One pass over the image: per variant (those in `want`), per requested
/// message length.
fn decode_lengths(
    image: &DynamicImage,
    lengths: &[usize],
    want: [bool; 4],
    max_blocks: usize,
    exact: bool,
) -> Option<[Vec<Decoded>; 4]> {
    if !image.color().has_color() || lengths.contains(&0) {
        return None;
    }
    let converted;
    let (raw, channels, w, h): (&[u8], usize, u32, u32) = match image {
        DynamicImage::ImageRgb8(b) => (b.as_raw(), 3, b.width(), b.height()),
        DynamicImage::ImageRgba8(b) => (b.as_raw(), 4, b.width(), b.height()),
        other => {
            converted = other.to_rgb8();
            (converted.as_raw(), 3, converted.width(), converted.height())
        }
    };
    let (w, h) = (w as usize, h as usize);
    // LL band of the top-left h/4*4 x w/4*4 pixels, cut in 4x4 blocks.
    let (bcols, brows) = ((w / 4 * 2) / 4, (h / 4 * 2) / 4);
    if bcols == 0 || brows == 0 {
        return None;
    }
    let row_step = (brows * bcols).div_ceil(max_blocks.max(1)).max(1);
    let new = |n: usize| Decoded {
        reference_bits: Vec::new(),
        soft: vec![0.0; n],
        blocks: 0,
    };
    let mut out: [Vec<Decoded>; 4] =
        std::array::from_fn(|_| lengths.iter().map(|&n| new(n)).collect());
    let mut ones: [Vec<Vec<u32>>; 4] =
        std::array::from_fn(|_| lengths.iter().map(|&n| vec![0; n]).collect());
    let mut counts: Vec<Vec<u32>> = lengths.iter().map(|&n| vec![0; n]).collect();
    let ncells = bcols * 4;
    // LL values of the 4 cell rows of one block row, per wanted variant.
    let mut ll: [Vec<f64>; 4] =
        std::array::from_fn(|v| vec![0.0; if want[v] { 4 * ncells } else { 0 }]);
    let stride = w * channels;
    let mut read = 0usize;
    let mut bits = vec![0usize; lengths.len()];
    for by in (0..brows).step_by(row_step) {
        // Bit index of the row's first block, per message length.
        for (b, &n) in bits.iter_mut().zip(lengths) {
            *b = (by * bcols) % n;
        }
        for i in 0..4 {
            let y = by * 8 + 2 * i;
            let r0 = raw.get(y * stride..(y + 1) * stride)?;
            let r1 = raw.get((y + 1) * stride..(y + 2) * stride)?;
            let mut dst: [&mut [f64]; 4] = ll
                .each_mut()
                .map(|b| b.get_mut(i * ncells..(i + 1) * ncells).unwrap_or_default());
            match (channels, exact) {
                (4, true) => cell_row::<4, true>(r0, r1, &mut dst),
                (4, false) => cell_row::<4, false>(r0, r1, &mut dst),
                (_, true) => cell_row::<3, true>(r0, r1, &mut dst),
                (_, false) => cell_row::<3, false>(r0, r1, &mut dst),
            }
        }
        for bx in 0..bcols {
            for (li, &bit) in bits.iter().enumerate() {
                if let Some(c) = counts[li].get_mut(bit) {
                    *c += 1;
                }
            }
            for v in (0..4).filter(|&v| want[v]) {
                let residue = block_residue(&ll[v], ncells, bx);
                let soft = soft_vote(residue);
                let one = residue > 0.5 * SCALE;
                for (li, &bit) in bits.iter().enumerate() {
                    if let (Some(s), Some(o)) =
                        (out[v][li].soft.get_mut(bit), ones[v][li].get_mut(bit))
                    {
                        *s += soft;
                        *o += u32::from(one);
                    }
                }
            }
            read += 1;
            for (b, &n) in bits.iter_mut().zip(lengths) {
                *b = if *b + 1 == n { 0 } else { *b + 1 };
            }
        }
    }
    for v in 0..4 {
        for li in 0..lengths.len() {
            let d = &mut out[v][li];
            d.blocks = read;
            // The package's threshold: mean vote * 255 > 127.
            d.reference_bits = counts[li]
                .iter()
                .zip(&ones[v][li])
                .map(|(&c, &o)| c > 0 && f64::from(o) / f64::from(c) * 255.0 > 127.0)
                .collect();
        }
    }
    Some(out)
}

/// The LL coefficients of one row of 2x2 cells (pixel rows `r0`, `r1`), per
/// wanted variant (`dst[v]` is empty when not wanted, else one slot a cell).
///
/// 8-bit variants compute each pixel's U as OpenCV does and the Haar LL as
/// pywt does (along columns then rows, `h*x1 + h*x0`, `h = 1/sqrt(2)`, in
/// f64), so residues on a decision boundary round the same way and the
/// reference bits match the package exactly. Float variants use the
/// linearity of U: `LL = 0.246 (0.886 sum(B) - 0.299 sum(R) - 0.587 sum(G)) + 1`
/// over the cell (the 1 is OpenCV's float chroma offset 0.5, doubled).
/// Without `EXACT` (detection), 8-bit variants use the same linear form with
/// the 8-bit offset (128 x 4 / 2 = 256): per-pixel rounding moves an LL value
/// by about 1, far from the 9-unit margin of a marked block, at a fraction of
/// the cost.
fn cell_row<const CH: usize, const EXACT: bool>(r0: &[u8], r1: &[u8], dst: &mut [&mut [f64]; 4]) {
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let ncells = dst.iter().map(|d| d.len()).max().unwrap_or(0);
    let cells = r0
        .chunks_exact(2 * CH)
        .zip(r1.chunks_exact(2 * CH))
        .take(ncells);
    for (cx, (top, bottom)) in cells.enumerate() {
        let px = |row: &[u8], k: usize| {
            let at = |i: usize| row.get(k * CH + i).copied().unwrap_or(0);
            (at(0), at(1), at(2))
        };
        // x00, x01, x10, x11 as (r, g, b)
        let cell = [px(top, 0), px(top, 1), px(bottom, 0), px(bottom, 1)];
        for (v, blue_first) in [(0usize, true), (1, false)] {
            if !EXACT {
                break;
            }
            if let Some(slot) = dst[v].get_mut(cx) {
                let u = cell.map(|(r, g, b)| {
                    f64::from(if blue_first {
                        chroma_u8(b, g, r)
                    } else {
                        chroma_u8(r, g, b)
                    })
                });
                let (left, right) = (h * u[2] + h * u[0], h * u[3] + h * u[1]);
                *slot = h * right + h * left;
            }
        }
        if !EXACT || !dst[2].is_empty() || !dst[3].is_empty() {
            let (mut sr, mut sg, mut sb) = (0u32, 0u32, 0u32);
            for (r, g, b) in cell {
                sr += u32::from(r);
                sg += u32::from(g);
                sb += u32::from(b);
            }
            let (sr, sg, sb) = (f64::from(sr), f64::from(sg), f64::from(sb));
            let ll_of =
                |blue: f64, red: f64| 0.246 * (0.886 * blue - 0.299 * red - 0.587 * sg) + 1.0;
            if let Some(slot) = dst[2].get_mut(cx) {
                *slot = ll_of(sb, sr);
            }
            if let Some(slot) = dst[3].get_mut(cx) {
                *slot = ll_of(sr, sb);
            }
            if !EXACT {
                if let Some(slot) = dst[0].get_mut(cx) {
                    *slot = ll_of(sb, sr) + 255.0;
                }
                if let Some(slot) = dst[1].get_mut(cx) {
                    *slot = ll_of(sr, sb) + 255.0;
                }
            }
        }
    }
}

/// For block `bx` of a block row (`ll`: 4 cell rows of `ncells`): `|c| mod 36`
/// at the arg-max of `|LL|` over the block's 4x4 LL coefficients, the first
/// one excluded (numpy's argmax: the first maximum wins).
fn block_residue(ll: &[f64], ncells: usize, bx: usize) -> f64 {
    let mut best = 0.0f64;
    let mut best_abs = -1.0f64;
    for k in 1..16 {
        let c = ll
            .get((k / 4) * ncells + bx * 4 + k % 4)
            .copied()
            .unwrap_or(0.0);
        if c.abs() > best_abs {
            best_abs = c.abs();
            best = c;
        }
    }
    residue(best.abs())
}

/// `x mod 36` for `x >= 0` without a libm `fmod` call; equal to Python's
/// `x % 36` except within an ulp of a multiple of 36, where it may return
/// 36 - ulp instead of 0 (the same vote: both sides of 18 agree).
fn residue(x: f64) -> f64 {
    let r = x - (x / SCALE).floor() * SCALE;
    if r < 0.0 {
        r + SCALE
    } else {
        r
    }
}

/// A block's soft vote from its residue: a triangle wave, +1 at 27 (a 1
/// bit), -1 at 9 (a 0 bit), 0 at 0 and 18 (no information).
fn soft_vote(residue: f64) -> f64 {
    let t = residue / SCALE + 0.25;
    let s = t - t.floor();
    4.0 * (s - 0.5).abs() - 1.0
}

/// OpenCV's fixed-point `COLOR_BGR2YUV` U for 8-bit input (14-bit
/// coefficients, rounded luma, offset 128, saturated), with `first` the
/// channel OpenCV takes as blue.
fn chroma_u8(first: u8, second: u8, third: u8) -> u8 {
    const SHIFT: i32 = 14;
    let round = |x: i32| (x + (1 << (SHIFT - 1))) >> SHIFT;
    let (b, g, r) = (i32::from(first), i32::from(second), i32::from(third));
    let y = round(r * 4899 + g * 9617 + b * 1868);
    round((b - y) * 8061 + (128 << SHIFT)).clamp(0, 255) as u8
}

/// Tail bound for the confidence-weighted agreement between per-bit soft
/// votes `s` and the message `m` (as +-1): with weights `w = m - mean(m)`
/// (so a bias common to all bits cancels), `T = sum(w s)`, and under the
/// null hypothesis that each vote's sign is a fair coin given its size,
/// Hoeffding's bound gives `P(T >= t) <= exp(-t^2 / (2 sum (w s)^2))`.
fn soft_tail(soft: &[f64], message: &[bool]) -> f64 {
    let m: Vec<f64> = message
        .iter()
        .map(|b| if *b { 1.0 } else { -1.0 })
        .collect();
    let mean = m.iter().sum::<f64>() / m.len().max(1) as f64;
    let (mut t, mut var) = (0.0f64, 0.0f64);
    for (mi, si) in m.iter().zip(soft) {
        let x = (mi - mean) * si;
        t += x;
        var += x * x;
    }
    if t <= 0.0 || var <= 0.0 {
        return 1.0;
    }
    (-(t * t) / (2.0 * var)).exp().min(1.0)
}

/// `P(X >= k)` for `X ~ Binomial(n, 1/2)`.
pub fn binomial_tail(n: usize, k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    // ln C(n, i) built up incrementally from ln C(n, 0) = 0.
    let ln2n = n as f64 * std::f64::consts::LN_2;
    let mut ln_choose = 0.0f64;
    let mut total = 0.0f64;
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        if i >= k {
            total += (ln_choose - ln2n).exp();
        }
    }
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tail_matches_closed_forms() {
        assert_eq!(binomial_tail(10, 0), 1.0);
        assert!((binomial_tail(10, 10) - 1.0 / 1024.0).abs() < 1e-15);
        assert!((binomial_tail(10, 9) - 11.0 / 1024.0).abs() < 1e-15);
        assert!((binomial_tail(48, 24) - 0.5573).abs() < 1e-3);
        assert_eq!(binomial_tail(5, 6), 0.0);
        // 136 bits all agreeing: 2^-136, far below f64's normal floor? No: ~1.1e-41.
        assert!(binomial_tail(136, 136) > 0.0);
    }

    #[test]
    fn sdxl_message_bits_are_the_published_constant() {
        let msgs = known_messages();
        let bits: String = msgs[0]
            .bits
            .iter()
            .map(|b| if *b { '1' } else { '0' })
            .collect();
        assert_eq!(bits, "101100111110110010010000011110111011000110011110");
        assert_eq!(msgs[1].bits.len(), 136);
        assert_eq!(msgs[2].bits.len(), 32);
        // 'S' = 0x53 = 01010011
        assert_eq!(
            &msgs[1].bits[..8],
            &[false, true, false, true, false, false, true, true]
        );
    }

    #[test]
    fn chroma_matches_opencv_spot_values() {
        // Values checked against cv2.cvtColor(..., COLOR_BGR2YUV).
        assert_eq!(chroma_u8(128, 128, 128), 128);
        assert_eq!(chroma_u8(255, 0, 0), 239); // pure blue
        assert_eq!(chroma_u8(0, 0, 255), 91); // pure red
    }

    #[test]
    fn grey_and_tiny_images_are_not_read() {
        let grey = DynamicImage::ImageLuma8(image::GrayImage::new(512, 512));
        assert!(scan(&grey).unwrap().is_empty());
        let tiny = DynamicImage::ImageRgb8(image::RgbImage::new(7, 7));
        assert!(detect(&tiny).unwrap().is_none());
        assert!(decode(&tiny, 48, Variant::BgrU8).is_none());
    }

    #[test]
    fn residue_and_soft_vote() {
        assert_eq!(residue(0.0), 0.0);
        assert_eq!(residue(36.0 * 7.0 + 27.0), 27.0);
        assert_eq!(residue(255.5), 255.5 - 252.0);
        for (r, v) in [
            (27.0, 1.0),
            (9.0, -1.0),
            (0.0, 0.0),
            (18.0, 0.0),
            (31.5, 0.5),
        ] {
            assert!((soft_vote(r) - v).abs() < 1e-12, "{r}");
        }
    }

    #[test]
    fn flat_colour_image_is_no_detection() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            512,
            512,
            image::Rgb([200, 30, 90]),
        ));
        assert!(detect(&img).unwrap().is_none());
    }
}
