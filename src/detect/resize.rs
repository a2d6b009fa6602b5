//! The input contract of semantic-encoder members (CLIP): resized 224 x 224
//! views of the whole image.
//!
//! Pixel-artifact members never resize (see [`super::grid`]); a semantic
//! encoder takes its own input size and is robust to resizing, so its view
//! is the image resized to a short side of `size` and cut into windows.
//! The filter is specified to the pixel so the Python trainer
//! (`models/training/clipview.py`) and this runtime agree exactly:
//!
//! 1. if the short side `S >= 4 * size`, average `k x k` blocks with
//!    `k = S / (2 * size)` (the last `W % k` columns and `H % k` rows are
//!    dropped), in `f64`, not rounded: this bounds the cost on 12 MP photos;
//! 2. resize so the short side is `size` (the long side becomes
//!    `round_half_up(L * size / S)`) with an antialiased triangle filter
//!    (support `max(scale, 1)`, pixel centres at `i + 0.5`, weights
//!    normalised per output pixel, taps outside the image dropped),
//!    horizontal pass first, `f64`; only the windows' pixels are computed;
//! 3. round half up and clamp to `0..=255`, then normalise per channel
//!    `(v / 255 - mean[c]) / std[c]` in `f32`, NCHW.
//!
//! Windows: `center` is one window at `((W' - size) / 2, (H' - size) / 2)`;
//! `five` adds the four corners (top-left, top-right, bottom-left,
//! bottom-right).

use serde::{Deserialize, Serialize};

use super::grid::{lookup_tables, CropBatch, RgbView};

/// Which windows of the resized image an encoder sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Windows {
    /// The centre window only.
    Center,
    /// The centre and the four corners.
    Five,
}

/// How an image becomes an encoder's input batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewSpec {
    /// Side of the square input (224 for CLIP ViT-B/16).
    pub size: u32,
    /// Only `box_triangle` (the algorithm in this module's docs).
    pub resize: String,
    /// Which windows are scored.
    pub windows: Windows,
    /// Pixel divisor (255).
    pub scale: f32,
    /// Per-channel mean, after scaling.
    pub mean: [f32; 3],
    /// Per-channel standard deviation, after scaling.
    pub std: [f32; 3],
}

/// The pre-reduction factor `k` for a `w` x `h` image.
pub fn reduce_factor(w: u32, h: u32, size: u32) -> u32 {
    let s = w.min(h);
    if s >= 4 * size {
        s / (2 * size)
    } else {
        1
    }
}

/// Width and height of the resized image (after pre-reduction).
pub fn resized_size(w: u32, h: u32, size: u32) -> (u32, u32) {
    let k = reduce_factor(w, h, size);
    let (w, h) = (u64::from(w / k), u64::from(h / k));
    let s = u64::from(size);
    let round = |long: u64, short: u64| ((2 * long * s + short) / (2 * short)) as u32;
    if w <= h {
        (size, round(h, w))
    } else {
        (round(w, h), size)
    }
}

/// Top-left corners of the windows in the resized image.
pub fn window_origins(w2: u32, h2: u32, size: u32, windows: Windows) -> Vec<(u32, u32)> {
    let (cx, cy) = ((w2 - size) / 2, (h2 - size) / 2);
    match windows {
        Windows::Center => vec![(cx, cy)],
        Windows::Five => vec![
            (cx, cy),
            (0, 0),
            (w2 - size, 0),
            (0, h2 - size),
            (w2 - size, h2 - size),
        ],
    }
}

/// Triangle-filter taps for output pixels `first..first + count` of an
/// `n_in -> n_out` resize: per output pixel, the first input index and the
/// normalised weights.
fn taps(n_in: u32, n_out: u32, first: u32, count: u32) -> Vec<(usize, Vec<f64>)> {
    let scale = f64::from(n_in) / f64::from(n_out);
    let support = scale.max(1.0);
    (first..first + count)
        .map(|i| {
            let center = (f64::from(i) + 0.5) * scale;
            let lo = ((center - support).floor().max(0.0)) as usize;
            let hi = ((center + support).ceil() as usize).min(n_in as usize);
            let mut w: Vec<f64> = (lo..hi)
                .map(|j| (1.0 - ((j as f64 + 0.5 - center) / support).abs()).max(0.0))
                .collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            (lo, w)
        })
        .collect()
}

/// The normalised NCHW batch of an image's windows.
pub fn make_views(img: &RgbView<'_>, spec: &ViewSpec) -> CropBatch {
    let u8s = views_u8(img, spec.size, spec.windows);
    let s = spec.size as usize;
    let plane = s * s;
    let lut = lookup_tables(spec.scale, &spec.mean, &spec.std);
    let mut data = vec![0f32; u8s.len() * 3 * plane];
    for (k, view) in u8s.iter().enumerate() {
        let out = &mut data[k * 3 * plane..(k + 1) * 3 * plane];
        for (p, px) in view.chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * plane + p] = lut[c][px[c] as usize];
            }
        }
    }
    CropBatch {
        data,
        n: u8s.len(),
        size: s,
    }
}

/// The windows as interleaved RGB `u8` (`size * size * 3` each), before
/// normalisation.
pub fn views_u8(img: &RgbView<'_>, size: u32, windows: Windows) -> Vec<Vec<u8>> {
    let (w, h) = (img.width as u32, img.height as u32);
    let k = reduce_factor(w, h, size);
    let (w1, h1) = (w / k, h / k);
    let (w2, h2) = resized_size(w, h, size);
    let s = size as usize;
    window_origins(w2, h2, size, windows)
        .into_iter()
        .map(|(x0, y0)| {
            let tx = taps(w1, w2, x0, size);
            let ty = taps(h1, h2, y0, size);
            let c0 = tx.first().map_or(0, |t| t.0);
            let c1 = tx.last().map_or(0, |t| t.0 + t.1.len());
            let r0 = ty.first().map_or(0, |t| t.0);
            let r1 = ty.last().map_or(0, |t| t.0 + t.1.len());
            // Horizontal pass over the source rows the window reads.
            let mut row = vec![0f64; (c1 - c0) * 3];
            let mut horiz = vec![0f64; (r1 - r0) * s * 3];
            for r in r0..r1 {
                reduced_row(img, k as usize, r, c0, c1, &mut row);
                let dst = &mut horiz[(r - r0) * s * 3..(r - r0 + 1) * s * 3];
                for (o, (lo, wts)) in tx.iter().enumerate() {
                    let mut acc = [0f64; 3];
                    for (j, wt) in wts.iter().enumerate() {
                        let p = (lo + j - c0) * 3;
                        acc[0] += wt * row[p];
                        acc[1] += wt * row[p + 1];
                        acc[2] += wt * row[p + 2];
                    }
                    dst[o * 3..o * 3 + 3].copy_from_slice(&acc);
                }
            }
            // Vertical pass, then round half up.
            let mut out = vec![0u8; s * s * 3];
            for (o, (lo, wts)) in ty.iter().enumerate() {
                for x in 0..s * 3 {
                    let mut acc = 0f64;
                    for (j, wt) in wts.iter().enumerate() {
                        acc += wt * horiz[(lo + j - r0) * s * 3 + x];
                    }
                    out[o * s * 3 + x] = (acc + 0.5).floor().clamp(0.0, 255.0) as u8;
                }
            }
            out
        })
        .collect()
}

/// Columns `c0..c1` of row `r` of the `k x k` block-averaged image.
fn reduced_row(img: &RgbView<'_>, k: usize, r: usize, c0: usize, c1: usize, out: &mut [f64]) {
    let (st, width) = (img.stride, img.width);
    if k == 1 {
        let src = &img.data[(r * width + c0) * st..(r * width + c1) * st];
        for (px, o) in src.chunks_exact(st).zip(out.chunks_exact_mut(3)) {
            o[0] = f64::from(px[0]);
            o[1] = f64::from(px[1]);
            o[2] = f64::from(px[2]);
        }
        return;
    }
    let mut sums = vec![0u32; (c1 - c0) * 3];
    for y in r * k..(r + 1) * k {
        let src = &img.data[(y * width + c0 * k) * st..(y * width + c1 * k) * st];
        for (i, px) in src.chunks_exact(st).enumerate() {
            let o = (i / k) * 3;
            sums[o] += u32::from(px[0]);
            sums[o + 1] += u32::from(px[1]);
            sums[o + 2] += u32::from(px[2]);
        }
    }
    let n = (k * k) as f64;
    for (o, s) in out.iter_mut().zip(&sums) {
        *o = f64::from(*s) / n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::DynamicImage;

    #[test]
    fn sizes_round_half_up_after_the_pre_reduction() {
        assert_eq!(reduce_factor(500, 300, 224), 1);
        assert_eq!(reduce_factor(4000, 3000, 224), 6);
        assert_eq!(resized_size(500, 300, 224), (373, 224));
        assert_eq!(resized_size(300, 500, 224), (224, 373));
        // 4000x3000 -> k = 6 -> 666x500 -> 224 * 666 / 500 = 298.37 -> 298.
        assert_eq!(resized_size(4000, 3000, 224), (298, 224));
        assert_eq!(resized_size(224, 224, 224), (224, 224));
        assert_eq!(
            window_origins(373, 224, 224, Windows::Five),
            vec![(74, 0), (0, 0), (149, 0), (0, 0), (149, 0)]
        );
    }

    #[test]
    fn taps_are_normalised_and_cover_the_support() {
        for (n_in, n_out) in [(1000u32, 224u32), (224, 224), (100, 224)] {
            for (lo, w) in taps(n_in, n_out, 0, n_out) {
                assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                assert!(lo + w.len() <= n_in as usize);
            }
        }
        // Same size: each output pixel is its input pixel.
        let t = taps(224, 224, 10, 1);
        let (lo, w) = &t[0];
        let nz: Vec<(usize, f64)> = w
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(j, v)| (lo + j, *v))
            .collect();
        assert_eq!(nz, vec![(10, 1.0)]);
    }

    #[test]
    fn flat_images_stay_flat_and_identity_is_exact() {
        let flat = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            1200,
            900,
            image::Rgb([10, 128, 250]),
        ));
        let v = views_u8(&RgbView::new(&flat), 224, Windows::Five);
        assert_eq!(v.len(), 5);
        assert!(v
            .iter()
            .all(|w| w.chunks_exact(3).all(|p| p == [10, 128, 250])));
        let img = image::RgbImage::from_fn(224, 224, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
        });
        let raw = img.as_raw().clone();
        let v = views_u8(
            &RgbView::new(&DynamicImage::ImageRgb8(img)),
            224,
            Windows::Center,
        );
        assert_eq!(v[0], raw);
    }

    #[test]
    fn box_reduction_averages_blocks() {
        // Blocks alternating 0/200 average to 100 everywhere.
        let img = image::RgbImage::from_fn(1792, 1792, |x, y| {
            image::Rgb([if (x + y) % 2 == 0 { 0 } else { 200 }; 3])
        });
        assert_eq!(reduce_factor(1792, 1792, 224), 4);
        let v = views_u8(
            &RgbView::new(&DynamicImage::ImageRgb8(img)),
            224,
            Windows::Center,
        );
        assert!(v[0].iter().all(|&p| p == 100), "{:?}", &v[0][..6]);
    }
}
