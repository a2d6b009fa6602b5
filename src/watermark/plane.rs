//! Luma planes and the pixel-domain transforms the watermark needs: luma
//! extraction with area-average downsampling to the working resolution (one
//! pass, bounded memory), box filters, the detector's whitening prefilter and
//! the embedder's local-activity measure.

use image::DynamicImage;

/// A single-channel f32 image, row-major.
#[derive(Debug, Clone)]
pub struct Plane {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `h` rows of `w` samples.
    pub data: Vec<f32>,
}

impl Plane {
    /// A zero plane.
    pub fn zeros(w: usize, h: usize) -> Self {
        Plane {
            w,
            h,
            data: vec![0.0; w * h],
        }
    }
}

/// Interleaved 8-bit pixels of an image, borrowed where possible.
pub enum Pixels<'a> {
    /// Borrowed samples with `channels` per pixel (1, 2, 3 or 4).
    Borrowed { data: &'a [u8], channels: usize },
    /// A converted copy (16-bit and float images).
    Owned { data: Vec<u8>, channels: usize },
}

impl Pixels<'_> {
    /// View any image as 8-bit gray, gray+alpha, RGB or RGBA samples.
    pub fn of(img: &DynamicImage) -> Pixels<'_> {
        match img {
            DynamicImage::ImageLuma8(b) => Pixels::Borrowed {
                data: b.as_raw(),
                channels: 1,
            },
            DynamicImage::ImageLumaA8(b) => Pixels::Borrowed {
                data: b.as_raw(),
                channels: 2,
            },
            DynamicImage::ImageRgb8(b) => Pixels::Borrowed {
                data: b.as_raw(),
                channels: 3,
            },
            DynamicImage::ImageRgba8(b) => Pixels::Borrowed {
                data: b.as_raw(),
                channels: 4,
            },
            other if other.color().has_alpha() => Pixels::Owned {
                data: other.to_rgba8().into_raw(),
                channels: 4,
            },
            other => Pixels::Owned {
                data: other.to_rgb8().into_raw(),
                channels: 3,
            },
        }
    }

    /// Samples and channel count.
    pub fn parts(&self) -> (&[u8], usize) {
        match self {
            Pixels::Borrowed { data, channels } => (data, *channels),
            Pixels::Owned { data, channels } => (data.as_slice(), *channels),
        }
    }
}

/// BT.601 luma of an RGB triple (linear, so it applies to block sums too).
#[inline]
fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// Luma (BT.601) of one row of interleaved samples.
pub fn luma_row(row: &[u8], channels: usize, out: &mut [f32]) {
    match channels {
        1 | 2 => {
            for (o, px) in out.iter_mut().zip(row.chunks_exact(channels)) {
                *o = f32::from(px[0]);
            }
        }
        _ => {
            for (o, px) in out.iter_mut().zip(row.chunks_exact(channels)) {
                *o = luma(f32::from(px[0]), f32::from(px[1]), f32::from(px[2]));
            }
        }
    }
}

/// Area-average weights mapping `n_in` samples onto `n_out <= n_in`: for each
/// input index, the (output index, weight) pairs it contributes to.
fn area_taps(n_in: usize, n_out: usize) -> Vec<[(usize, f32); 2]> {
    let s = n_in as f64 / n_out.max(1) as f64;
    (0..n_in)
        .map(|i| {
            let (a, b) = (i as f64, i as f64 + 1.0);
            let j = ((a / s).floor() as usize).min(n_out.saturating_sub(1));
            let edge = (j as f64 + 1.0) * s;
            if b <= edge || j + 1 >= n_out {
                [(j, (1.0 / s) as f32), (j, 0.0)]
            } else {
                [
                    (j, ((edge - a) / s) as f32),
                    (j + 1, ((b - edge) / s) as f32),
                ]
            }
        })
        .collect()
}

/// Luma of `img` area-averaged down to `ow` x `oh` (each at most the input's).
pub fn luma_downsampled(img: &DynamicImage, ow: usize, oh: usize) -> Plane {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = (ow.clamp(1, w.max(1)), oh.clamp(1, h.max(1)));
    let px = Pixels::of(img);
    let (data, ch) = px.parts();
    let k = w / ow;
    if ow * k == w && oh * k == h {
        return luma_box(data, ch, w, k, ow, oh);
    }
    luma_area(data, ch, w, h, ow, oh)
}

/// [`luma_downsampled`] for any sizes: separable area-average taps.
fn luma_area(data: &[u8], ch: usize, w: usize, h: usize, ow: usize, oh: usize) -> Plane {
    let xt = area_taps(w, ow);
    let yt = area_taps(h, oh);
    let mut out = Plane::zeros(ow, oh);
    let mut lrow = vec![0f32; w];
    let mut hrow = vec![0f32; ow];
    for (y, taps) in yt.iter().enumerate() {
        let Some(row) = data.get(y * w * ch..(y + 1) * w * ch) else {
            break;
        };
        luma_row(row, ch, &mut lrow);
        hrow.iter_mut().for_each(|v| *v = 0.0);
        for (v, t) in lrow.iter().zip(&xt) {
            hrow[t[0].0] += v * t[0].1;
            hrow[t[1].0] += v * t[1].1;
        }
        for &(j, wgt) in taps {
            if wgt != 0.0 {
                let dst = &mut out.data[j * ow..(j + 1) * ow];
                for (d, s) in dst.iter_mut().zip(&hrow) {
                    *d += s * wgt;
                }
            }
        }
    }
    out
}

/// [`luma_downsampled`] when both sides shrink by the same integer `k`
/// (the working resolution is a power-of-two factor): plain k x k box sums.
fn luma_box(data: &[u8], ch: usize, w: usize, k: usize, ow: usize, oh: usize) -> Plane {
    match (ch, k) {
        (_, 1) => {}
        (3, _) => return luma_box_rgb::<3>(data, w, k, ow, oh),
        (4, _) => return luma_box_rgb::<4>(data, w, k, ow, oh),
        _ => {}
    }
    let mut out = Plane::zeros(ow, oh);
    let mut lrow = vec![0f32; w];
    let norm = 1.0 / (k * k) as f32;
    for (j, dst) in out.data.chunks_exact_mut(ow).enumerate() {
        for r in 0..k {
            let y = j * k + r;
            let Some(row) = data.get(y * w * ch..(y + 1) * w * ch) else {
                break;
            };
            if k == 1 {
                luma_row(row, ch, dst);
                continue;
            }
            luma_row(row, ch, &mut lrow);
            for (d, block) in dst.iter_mut().zip(lrow.chunks_exact(k)) {
                *d += block.iter().sum::<f32>();
            }
        }
        if k > 1 {
            dst.iter_mut().for_each(|v| *v *= norm);
        }
    }
    out
}

/// [`luma_box`] for `CH`-channel colour pixels: the k x k block sums of
/// each channel in integers, then one luma per block (luma is linear, so
/// this equals the mean of the pixels' lumas, at a fraction of the work:
/// this pass reads every pixel of the decoded image).
fn luma_box_rgb<const CH: usize>(data: &[u8], w: usize, k: usize, ow: usize, oh: usize) -> Plane {
    let mut out = Plane::zeros(ow, oh);
    let mut sums = vec![[0u32; 3]; ow];
    let norm = 1.0 / (k * k) as f32;
    for (j, dst) in out.data.chunks_exact_mut(ow).enumerate() {
        sums.iter_mut().for_each(|s| *s = [0; 3]);
        for r in 0..k {
            let y = j * k + r;
            let Some(row) = data.get(y * w * CH..(y + 1) * w * CH) else {
                break;
            };
            for (s, block) in sums.iter_mut().zip(row.chunks_exact(k * CH)) {
                let (mut a, mut b, mut c) = (0u32, 0u32, 0u32);
                for px in block.chunks_exact(CH) {
                    a += u32::from(px[0]);
                    b += u32::from(px[1]);
                    c += u32::from(px[2]);
                }
                s[0] += a;
                s[1] += b;
                s[2] += c;
            }
        }
        for (d, s) in dst.iter_mut().zip(&sums) {
            *d = luma(s[0] as f32, s[1] as f32, s[2] as f32) * norm;
        }
    }
    out
}

/// Area-average downsampling of a plane by an integer factor `k`.
pub fn shrink(p: &Plane, k: usize) -> Plane {
    let (ow, oh) = (p.w / k.max(1), p.h / k.max(1));
    let mut out = Plane::zeros(ow, oh);
    let norm = 1.0 / (k * k) as f32;
    for y in 0..oh * k {
        let src = &p.data[y * p.w..y * p.w + ow * k];
        let dst = &mut out.data[(y / k) * ow..(y / k + 1) * ow];
        for (x, v) in src.iter().enumerate() {
            dst[x / k] += v * norm;
        }
    }
    out
}

/// Mean over a (2r+1)^2 window, edges handled by shrinking the window.
pub fn box_mean(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.w, p.h);
    let mut tmp = Plane::zeros(w, h);
    let mut acc = vec![0f64; w.max(h) + 1];
    // Reciprocals of every window size (multiplying beats dividing).
    let inv: Vec<f64> = (0..=2 * r + 1).map(|n| 1.0 / n.max(1) as f64).collect();
    for y in 0..h {
        let row = &p.data[y * w..(y + 1) * w];
        acc[0] = 0.0;
        for x in 0..w {
            acc[x + 1] = acc[x] + f64::from(row[x]);
        }
        for (x, t) in tmp.data[y * w..(y + 1) * w].iter_mut().enumerate() {
            let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
            *t = ((acc[b] - acc[a]) * inv[b - a]) as f32;
        }
    }
    let mut out = Plane::zeros(w, h);
    let mut col = vec![0f64; w];
    // Running column sums over the vertical window.
    let (mut top, mut bot) = (0usize, 0usize);
    for y in 0..h {
        let (a, b) = (y.saturating_sub(r), (y + r + 1).min(h));
        while bot < b {
            for (c, v) in col.iter_mut().zip(&tmp.data[bot * w..(bot + 1) * w]) {
                *c += f64::from(*v);
            }
            bot += 1;
        }
        while top < a {
            for (c, v) in col.iter_mut().zip(&tmp.data[top * w..(top + 1) * w]) {
                *c -= f64::from(*v);
            }
            top += 1;
        }
        let k = inv[b - a];
        for (o, c) in out.data[y * w..(y + 1) * w].iter_mut().zip(&col) {
            *o = (*c * k) as f32;
        }
    }
    out
}

/// High-pass luma: the plane minus its local mean over a 9x9 window.
pub fn highpass(p: &Plane) -> Plane {
    let m = box_mean(p, 4);
    let mut out = p.clone();
    for (o, v) in out.data.iter_mut().zip(&m.data) {
        *o -= v;
    }
    out
}

/// Local RMS of a plane over a (2r+1)^2 window.
pub fn local_rms(p: &Plane, r: usize) -> Plane {
    let mut sq = p.clone();
    sq.data.iter_mut().for_each(|v| *v *= *v);
    let mut m = box_mean(&sq, r);
    m.data.iter_mut().for_each(|v| *v = v.max(0.0).sqrt());
    m
}

/// Exponent of the local activity the detector divides by. The embedder's
/// mask gives the mark an amplitude ~ activity^0.7 over content noise ~
/// activity, so the matched weight is activity^-1.3; measured on photos, a
/// little more (1.5) also discounts busy areas that JPEG and resampling
/// disturb most.
const WHITEN_EXP: f32 = 1.5;

/// The divisor of [`whiten`] for local activity `s`, scaled to equal
/// `s + 1.5` near the activity of typical texture (10 gray levels).
/// `x^1.5` is computed as `x * sqrt(x)`: `powf` once per working pixel was
/// a tenth of the detector's time.
#[inline]
fn whiten_div(s: f32) -> f32 {
    const _: () = assert!(WHITEN_EXP == 1.5);
    // 10^(1 - WHITEN_EXP) = 1 / sqrt(10).
    const SCALE: f32 = 0.316_227_77;
    let x = s + 1.5;
    x * x.sqrt() * SCALE
}

/// The detector's prefilter: high-pass, then divide by a power of the local
/// activity (see `WHITEN_EXP`) so busy regions and strong edges, where
/// content noise is loudest, do not dominate; clip outliers, and
/// silence dead regions (constant fill such as the black corners of a
/// rotation, or clipped highlights) and their borders, whose straight edges
/// would otherwise dominate the autocorrelation.
pub fn whiten(p: &Plane) -> Plane {
    let mut hp = highpass(p);
    let e = local_rms(&hp, 8);
    let fine = local_rms(&hp, 1);
    let mut dead = Plane::zeros(p.w, p.h);
    for (d, f) in dead.data.iter_mut().zip(&fine.data) {
        *d = if *f < 0.2 { 1.0 } else { 0.0 };
    }
    let near_dead = box_mean(&dead, 6);
    for ((v, s), nd) in hp.data.iter_mut().zip(&e.data).zip(&near_dead.data) {
        *v = if *nd > 0.05 {
            0.0
        } else {
            (*v / whiten_div(*s)).clamp(-3.0, 3.0)
        };
    }
    hp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_downsample_preserves_mean() {
        let img = image::RgbImage::from_fn(101, 67, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, 50])
        });
        let d = DynamicImage::ImageRgb8(img);
        let full = luma_downsampled(&d, 101, 67);
        let small = luma_downsampled(&d, 40, 29);
        let mf: f32 = full.data.iter().sum::<f32>() / full.data.len() as f32;
        // The integer-factor fast path equals the general area average.
        let p = Pixels::of(&d);
        let (data, ch) = p.parts();
        for k in [1usize, 2, 3] {
            let (ow, oh) = (101 / k, 67 / k);
            let (cw, chh) = (ow * k, oh * k);
            let sub: Vec<u8> = (0..chh)
                .flat_map(|y| data[y * 101 * ch..(y * 101 + cw) * ch].to_vec())
                .collect();
            let fast = luma_box(&sub, ch, cw, k, ow, oh);
            let general = luma_area(&sub, ch, cw, chh, ow, oh);
            for (a, b) in fast.data.iter().zip(&general.data) {
                assert!((a - b).abs() < 1e-3, "k={k}: {a} {b}");
            }
        }
        let ms: f32 = small.data.iter().sum::<f32>() / small.data.len() as f32;
        assert!((mf - ms).abs() < 0.5, "{mf} {ms}");
        let bm = box_mean(&full, 3);
        assert_eq!(bm.data.len(), full.data.len());
    }
}
