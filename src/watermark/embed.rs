//! Embedding: the perceptual mask (local activity of the luma at the working
//! resolution), the strength that keeps PSNR at the target, and adding the
//! masked, tiled pattern to every colour channel (a pure luma change).

use image::DynamicImage;

use super::coding;
use super::detect::chips_at_origin;
use super::fft2::Fft2;
use super::fold::fold;
use super::pattern::{Layout, COEFS_PER_CHIP, TILE};
use super::plane::{highpass, local_rms, luma_downsampled, whiten, Plane};
use super::sync::Lattice;
use super::{working_size, EmbedOptions, MIN_EMBED_SIDE};
use crate::error::{Error, Result};

/// Local activity (gray levels, RMS of the high-passed luma) that maps to a
/// mask of 1.
const ACT_REF: f32 = 10.0;
/// Mask floor (flat areas) and ceiling (busy texture).
const MASK_MIN: f32 = 0.12;
/// Informed embedding: rounds, the per-coefficient margin aimed at, and the
/// largest boost of one chip.
const INFORMED_ROUNDS: usize = 3;
const MARGIN_TARGET: f32 = 0.35;
const GAIN_MAX: f32 = 3.0;
/// Informed embedding runs on working planes up to this many pixels (24
/// tiles); larger ones skip it.
const INFORMED_MAX_AREA: usize = 24 * TILE * TILE;
/// Masking exponent: amplitude ~ activity^0.7.
const MASK_GAMMA: f32 = 0.7;
const MASK_MAX: f32 = 1.6;
/// Mean squared error aimed at by strength 1: 40.5 dB PSNR, a margin above
/// the 40 dB goal for rounding and clipping (measured: mean 40.8, min 40.4).
const MSE_TARGET: f32 = 5.80;
/// Largest pattern gain at strength 1 (caps the amplitude in flat images).
const ALPHA_MAX: f32 = 9.0;
/// An image is too flat when fewer than this share of its working pixels
/// have activity above `FLAT_ACT`.
const FLAT_SHARE: f32 = 0.05;
const FLAT_ACT: f32 = 2.0;

/// Local activity (gray levels) of a working-resolution luma plane: RMS of
/// its high-passed values over a 7x7 window.
pub fn activity(luma: &Plane) -> Plane {
    local_rms(&highpass(luma), 3)
}

/// The perceptual mask for an activity plane: amplitude grows with local
/// activity to the power `MASK_GAMMA` (contrast masking, as in Watson's
/// DCT visibility model), between `MASK_MIN` and `MASK_MAX`.
pub fn mask(activity: &Plane) -> Plane {
    let mut m = activity.clone();
    m.data
        .iter_mut()
        .for_each(|v| *v = (*v / ACT_REF).powf(MASK_GAMMA).clamp(MASK_MIN, MASK_MAX));
    m
}

/// Embed `payload` (see [`super::embed()`]).
pub fn embed(img: &DynamicImage, payload: u64, opts: &EmbedOptions) -> Result<DynamicImage> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w.min(h) < MIN_EMBED_SIDE {
        return Err(Error::Watermark(format!(
            "image is too small to carry a watermark ({w}x{h}; needs at least {MIN_EMBED_SIDE}x{MIN_EMBED_SIDE})"
        )));
    }
    if !(opts.strength.is_finite() && opts.strength > 0.0 && opts.strength <= 10.0) {
        return Err(Error::InvalidInput(format!(
            "strength must be in (0, 10], got {}",
            opts.strength
        )));
    }
    let (ww, wh) = working_size(w, h);
    let luma = luma_downsampled(img, ww, wh);
    let act = activity(&luma);
    let busy = act.data.iter().filter(|v| **v > FLAT_ACT).count();
    if (busy as f32) < FLAT_SHARE * act.data.len() as f32 {
        return Err(Error::Watermark(
            "image is too flat to carry a watermark invisibly (almost no texture)".into(),
        ));
    }
    let layout = Layout::new(opts.key);
    let chips = coding::encode(payload, opts.key);
    let m = mask(&act);
    let fft = Fft2::new(TILE, TILE);
    // Informed embedding: look at the marked luma as the detector will, and
    // give more of the energy budget to the chips the image's own content
    // works against (same total energy, so the same PSNR).
    let mut gains = vec![1f32; chips.len()];
    let mut d = offsets(&layout, &chips, &gains, &m, opts.strength);
    // Large planes hold enough tiles for the mark to outweigh the content.
    let rounds = if ww * wh <= INFORMED_MAX_AREA {
        INFORMED_ROUNDS
    } else {
        0
    };
    for _ in 0..rounds {
        let mut marked = luma.clone();
        for (l, v) in marked.data.iter_mut().zip(&d.data) {
            *l += v;
        }
        let Some(folded) = fold(&whiten(&marked), &Lattice::identity()) else {
            break;
        };
        let soft = chips_at_origin(&folded, &layout, &fft);
        let mut changed = false;
        for ((g, s), c) in gains.iter_mut().zip(&soft).zip(&chips) {
            // Margin per coefficient, in [-1, 1].
            let margin = s * c / COEFS_PER_CHIP as f32;
            if margin < MARGIN_TARGET {
                *g = (*g * (1.0 + (MARGIN_TARGET - margin))).min(GAIN_MAX);
                changed = true;
            }
        }
        if !changed {
            break;
        }
        // Same payload energy: strong chips pay for the weak ones, and the
        // pilot keeps its share.
        let rms = (gains.iter().map(|g| g * g).sum::<f32>() / gains.len().max(1) as f32).sqrt();
        gains.iter_mut().for_each(|g| *g /= rms.max(1e-6));
        d = offsets(&layout, &chips, &gains, &m, opts.strength);
    }
    Ok(apply(img, &d))
}

/// The luma offsets at the working resolution: the tile carrying `chips`
/// weighted by `gains`, repeated, shaped by the mask `m` and scaled to the
/// target MSE.
fn offsets(layout: &Layout, chips: &[f32], gains: &[f32], m: &Plane, strength: f32) -> Plane {
    let weighted: Vec<f32> = chips.iter().zip(gains).map(|(c, g)| c * g).collect();
    let tile = layout.tile(&weighted);
    let (ww, wh) = (m.w, m.h);
    let mut d = m.clone();
    for y in 0..wh {
        let trow = &tile[(y % TILE) * TILE..(y % TILE + 1) * TILE];
        for (x, v) in d.data[y * ww..(y + 1) * ww].iter_mut().enumerate() {
            *v *= trow[x % TILE];
        }
    }
    let energy = d.data.iter().map(|v| v * v).sum::<f32>() / d.data.len().max(1) as f32;
    let alpha = strength * (MSE_TARGET / energy.max(1e-12)).sqrt().min(ALPHA_MAX);
    d.data.iter_mut().for_each(|v| *v *= alpha);
    d
}

/// Per-output-index bilinear taps from `n_in` working samples to `n_out`.
fn bilinear_taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let s = n_in as f32 / n_out.max(1) as f32;
    (0..n_out)
        .map(|x| {
            let u = ((x as f32 + 0.5) * s - 0.5).clamp(0.0, (n_in.max(1) - 1) as f32);
            let i0 = u.floor() as usize;
            let i1 = (i0 + 1).min(n_in.max(1) - 1);
            (i0, i1, u - i0 as f32)
        })
        .collect()
}

/// Add the working-resolution luma offsets `d`, upsampled bilinearly, to
/// every colour channel of `img` (alpha untouched).
fn apply(img: &DynamicImage, d: &Plane) -> DynamicImage {
    let mut out = match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img.clone(),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let (w, h) = (out.width() as usize, out.height() as usize);
    let (ch, colour, buf): (usize, usize, &mut [u8]) = match &mut out {
        DynamicImage::ImageLuma8(b) => (1, 1, b),
        DynamicImage::ImageLumaA8(b) => (2, 1, b),
        DynamicImage::ImageRgb8(b) => (3, 3, b),
        DynamicImage::ImageRgba8(b) => (4, 3, b),
        _ => return out,
    };
    let xt = bilinear_taps(d.w, w);
    let yt = bilinear_taps(d.h, h);
    let mut tmp = vec![0f32; d.w];
    for (y, &(r0, r1, fy)) in yt.iter().enumerate() {
        let a = &d.data[r0 * d.w..(r0 + 1) * d.w];
        let b = &d.data[r1 * d.w..(r1 + 1) * d.w];
        for ((t, va), vb) in tmp.iter_mut().zip(a).zip(b) {
            *t = va + (vb - va) * fy;
        }
        let Some(row) = buf.get_mut(y * w * ch..(y + 1) * w * ch) else {
            break;
        };
        for (px, &(i0, i1, fx)) in row.chunks_exact_mut(ch).zip(&xt) {
            let delta = tmp[i0] + (tmp[i1] - tmp[i0]) * fx;
            for c in px.iter_mut().take(colour) {
                // Round half up (the clamp keeps it in range; no libm call).
                *c = (f32::from(*c) + delta + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
