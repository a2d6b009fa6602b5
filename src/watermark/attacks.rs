//! Image attacks for robustness tests and benchmarks: re-encoding (PNG,
//! JPEG with 4:2:0 chroma), resizing, crops, rotation, affine warps and
//! mirroring, gain, colour and tone changes, filters, overlays, noise, and
//! chains of them as platforms apply them. Shared by the property tests and
//! the robustness benchmark so both measure the same thing. (Lossy WebP and
//! the autoencoder regeneration need external encoders and models; the
//! benchmark adds them.)

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};

use super::prng::Prng;
use crate::error::{Error, Result};
use crate::media::{decode, Limits};

/// One attack with its parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attack {
    /// No change.
    None,
    /// PNG encode and decode.
    Png,
    /// JPEG at a quality (4:2:0 chroma subsampling).
    Jpeg(u8),
    /// Resize both sides by a factor (bicubic), not restored.
    Resize(f32),
    /// Centre crop keeping this fraction of each side.
    CropCenter(f32),
    /// Off-centre crop keeping this fraction of each side (anchored near the
    /// top-left: 5% from the left, 35% from the top of the slack).
    CropOffset(f32),
    /// Rotation by degrees about the centre, bilinear, same canvas (black corners).
    Rotate(f32),
    /// Multiply every channel by a factor.
    Brightness(f32),
    /// Scale deviations from mid-gray (128) by a factor.
    Contrast(f32),
    /// Gaussian blur of this sigma.
    Blur(f32),
    /// Additive Gaussian noise of this sigma (gray levels), seeded.
    Noise(f32),
    /// Crop 90%, resize to 60%, JPEG q75.
    Social,
    /// Horizontal mirror.
    Mirror,
    /// Change the aspect ratio: height times this factor, width unchanged
    /// (bicubic).
    Aspect(f32),
    /// Horizontal shear about the centre (x += s * y), same canvas.
    Shear(f32),
    /// A general linear map about the centre (row-major 2x2, applied to
    /// pixel coordinates), same canvas.
    Affine([f32; 4]),
    /// A screenshot: bilinear resize to 83%, then 3 px cut from every border.
    Screenshot,
    /// Hue rotation (degrees) and saturation factor.
    HueSat(f32, f32),
    /// Gamma curve on every channel (out = in^g on [0, 1]).
    Gamma(f32),
    /// Median filter over a 3x3 window.
    Median3,
    /// Unsharp mask: sigma of the blur, amount of the added detail.
    Unsharp(f32, f32),
    /// A caption band over the bottom 15% and three stickers.
    Caption,
    /// Thumbnail with this short side, then JPEG q70.
    Thumbnail(u32),
    /// Offset crop 70%, rotate 3 degrees, resize 60%, JPEG q60.
    Chain,
}

impl Attack {
    /// The attacks of the robustness goal, in table order.
    pub fn standard() -> Vec<Attack> {
        use Attack::*;
        vec![
            None,
            Png,
            Jpeg(90),
            Jpeg(75),
            Jpeg(50),
            Resize(0.5),
            Resize(1.5),
            CropCenter(0.8),
            CropOffset(0.6),
            Rotate(2.0),
            Rotate(5.0),
            Brightness(1.3),
            Contrast(0.7),
            Blur(1.0),
            Noise(5.0),
            Social,
        ]
    }

    /// The harder attacks platforms apply every day (the watermark's second
    /// goal list), in table order.
    pub fn hard() -> Vec<Attack> {
        use Attack::*;
        vec![
            Jpeg(30),
            Rotate(10.0),
            Screenshot,
            HueSat(10.0, 1.3),
            Gamma(0.7),
            Median3,
            Unsharp(1.5, 1.0),
            Caption,
            Thumbnail(256),
            CropOffset(0.4),
            Chain,
            Aspect(0.8),
            Shear(0.15),
            Affine([1.1, 0.1, -0.05, 0.85]),
            Mirror,
        ]
    }

    /// A short name for tables.
    pub fn name(&self) -> String {
        match self {
            Attack::None => "none".into(),
            Attack::Png => "png".into(),
            Attack::Jpeg(q) => format!("jpeg q{q}"),
            Attack::Resize(f) => format!("resize {:.0}%", f * 100.0),
            Attack::CropCenter(f) => format!("crop centre {:.0}%", f * 100.0),
            Attack::CropOffset(f) => format!("crop off-centre {:.0}%", f * 100.0),
            Attack::Rotate(d) => format!("rotate {d} deg"),
            Attack::Brightness(f) => format!("brightness x{f}"),
            Attack::Contrast(f) => format!("contrast x{f}"),
            Attack::Blur(s) => format!("blur sigma {s}"),
            Attack::Noise(s) => format!("noise sigma {s}"),
            Attack::Social => "social (crop 90%, 60%, q75)".into(),
            Attack::Mirror => "mirror".into(),
            Attack::Aspect(f) => format!("aspect (height x{f})"),
            Attack::Shear(s) => format!("shear {s}"),
            Attack::Affine(m) => format!("affine [{}, {}; {}, {}]", m[0], m[1], m[2], m[3]),
            Attack::Screenshot => "screenshot (83%, 3 px cut)".into(),
            Attack::HueSat(h, s) => format!("hue +{h} deg, saturation x{s}"),
            Attack::Gamma(g) => format!("gamma {g}"),
            Attack::Median3 => "median 3x3".into(),
            Attack::Unsharp(s, a) => format!("unsharp sigma {s} x{a}"),
            Attack::Caption => "caption band 15% + stickers".into(),
            Attack::Thumbnail(n) => format!("thumbnail {n} px + jpeg q70"),
            Attack::Chain => "crop 70% + rotate 3 + 60% + q60".into(),
        }
    }

    /// Apply the attack (RGB 8-bit output; `seed` drives the noise).
    pub fn apply(&self, img: &DynamicImage, seed: u64) -> Result<DynamicImage> {
        match *self {
            Attack::None => Ok(img.clone()),
            Attack::Png => png(img),
            Attack::Jpeg(q) => jpeg(img, q),
            Attack::Resize(f) => Ok(resize(img, f)),
            Attack::CropCenter(f) => Ok(crop(img, f, 0.5, 0.5)),
            Attack::CropOffset(f) => Ok(crop(img, f, 0.05, 0.35)),
            Attack::Rotate(d) => Ok(rotate(img, d)),
            Attack::Brightness(f) => Ok(map_levels(img, |v| v * f)),
            Attack::Contrast(f) => Ok(map_levels(img, |v| (v - 128.0) * f + 128.0)),
            Attack::Blur(s) => Ok(img.blur(s)),
            Attack::Noise(s) => Ok(noise(img, s, seed)),
            Attack::Social => jpeg(&resize(&crop(img, 0.9, 0.5, 0.5), 0.6), 75),
            Attack::Mirror => Ok(img.fliph()),
            Attack::Aspect(f) => Ok(resize_xy(img, 1.0, f, FilterType::CatmullRom)),
            Attack::Shear(s) => Ok(warp(img, [1.0, s, 0.0, 1.0])),
            Attack::Affine(m) => Ok(warp(img, m)),
            Attack::Screenshot => {
                let r = resize_xy(img, 0.83, 0.83, FilterType::Triangle);
                let (w, h) = (r.width(), r.height());
                Ok(r.crop_imm(3, 3, w.saturating_sub(6).max(1), h.saturating_sub(6).max(1)))
            }
            Attack::HueSat(h, s) => Ok(hue_saturation(img, h, s)),
            Attack::Gamma(g) => Ok(map_levels(img, |v| 255.0 * (v / 255.0).powf(g))),
            Attack::Median3 => Ok(median3(img)),
            Attack::Unsharp(s, a) => Ok(unsharp(img, s, a)),
            Attack::Caption => Ok(caption(img, seed)),
            Attack::Thumbnail(n) => {
                let f = n as f32 / img.width().min(img.height()).max(1) as f32;
                jpeg(&resize(img, f.min(1.0)), 70)
            }
            Attack::Chain => {
                let c = rotate(&crop(img, 0.7, 0.3, 0.6), 3.0);
                jpeg(&resize(&c, 0.6), 60)
            }
        }
    }
}

fn encode_err(e: image::ImageError) -> Error {
    Error::Watermark(format!("attack encoder: {e}"))
}

/// PNG round trip.
pub fn png(img: &DynamicImage) -> Result<DynamicImage> {
    let mut buf = Vec::new();
    img.write_to(&mut Cursor::new(&mut buf), image::ImageFormat::Png)
        .map_err(encode_err)?;
    decode(&buf, &Limits::default())
}

/// Average chroma over 2x2 blocks (what a 4:2:0 JPEG keeps), luma untouched.
pub fn subsample_chroma(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let ycc = |p: &Rgb<u8>| {
        let [r, g, b] = p.0.map(f32::from);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        (
            y,
            -0.168_736 * r - 0.331_264 * g + 0.5 * b,
            0.5 * r - 0.418_688 * g - 0.081_312 * b,
        )
    };
    let mut out = img.clone();
    for by in (0..h).step_by(2) {
        for bx in (0..w).step_by(2) {
            let (mut cb, mut cr, mut n) = (0.0, 0.0, 0.0);
            for y in by..(by + 2).min(h) {
                for x in bx..(bx + 2).min(w) {
                    let (_, b, r) = ycc(img.get_pixel(x, y));
                    cb += b;
                    cr += r;
                    n += 1.0;
                }
            }
            let (cb, cr) = (cb / n, cr / n);
            for y in by..(by + 2).min(h) {
                for x in bx..(bx + 2).min(w) {
                    let (l, _, _) = ycc(img.get_pixel(x, y));
                    let r = l + 1.402 * cr;
                    let g = l - 0.344_136 * cb - 0.714_136 * cr;
                    let b = l + 1.772 * cb;
                    out.put_pixel(
                        x,
                        y,
                        Rgb([r, g, b].map(|v| v.round().clamp(0.0, 255.0) as u8)),
                    );
                }
            }
        }
    }
    out
}

/// JPEG at `quality` with 4:2:0 chroma (the chroma is subsampled before
/// encoding, since the `image` encoder writes 4:4:4).
pub fn jpeg(img: &DynamicImage, quality: u8) -> Result<DynamicImage> {
    let rgb = subsample_chroma(&img.to_rgb8());
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    DynamicImage::ImageRgb8(rgb)
        .write_with_encoder(enc)
        .map_err(encode_err)?;
    decode(&buf, &Limits::default())
}

/// Resize both sides by `f` (bicubic).
pub fn resize(img: &DynamicImage, f: f32) -> DynamicImage {
    resize_xy(img, f, f, FilterType::CatmullRom)
}

/// Resize the width by `fx` and the height by `fy` with `filter`.
pub fn resize_xy(img: &DynamicImage, fx: f32, fy: f32, filter: FilterType) -> DynamicImage {
    let w = ((img.width() as f32 * fx).round() as u32).max(1);
    let h = ((img.height() as f32 * fy).round() as u32).max(1);
    img.resize_exact(w, h, filter)
}

/// Crop keeping `f` of each side; `ax`, `ay` place the window in the slack
/// (0 = left/top, 0.5 = centred).
pub fn crop(img: &DynamicImage, f: f32, ax: f32, ay: f32) -> DynamicImage {
    let (w, h) = (img.width(), img.height());
    let cw = ((w as f32 * f).round() as u32).clamp(1, w);
    let ch = ((h as f32 * f).round() as u32).clamp(1, h);
    let x0 = ((w - cw) as f32 * ax).round() as u32;
    let y0 = ((h - ch) as f32 * ay).round() as u32;
    img.crop_imm(x0, y0, cw, ch)
}

/// Rotate by `deg` about the centre with bilinear interpolation, same
/// canvas, black outside.
pub fn rotate(img: &DynamicImage, deg: f32) -> DynamicImage {
    let (s, c) = deg.to_radians().sin_cos();
    warp(img, [c, -s, s, c])
}

/// Apply the linear map `m` (row-major 2x2, on pixel coordinates about the
/// centre) with bilinear interpolation, same canvas, black outside.
pub fn warp(img: &DynamicImage, m: [f32; 4]) -> DynamicImage {
    let src = img.to_rgb8();
    let (w, h) = src.dimensions();
    let det = m[0] * m[3] - m[1] * m[2];
    if w == 0 || h == 0 || det.abs() < 1e-6 {
        return DynamicImage::ImageRgb8(src);
    }
    // The inverse map, from output to source coordinates.
    let inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let out = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = inv[0] * dx + inv[1] * dy + cx - 0.5;
        let sy = inv[2] * dx + inv[3] * dy + cy - 0.5;
        if sx < 0.0 || sy < 0.0 || sx > (w - 1) as f32 || sy > (h - 1) as f32 {
            return Rgb([0, 0, 0]);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let mut px = [0u8; 3];
        for (k, o) in px.iter_mut().enumerate() {
            let g = |x: u32, y: u32| f32::from(src.get_pixel(x, y).0[k]);
            let top = g(x0, y0) + (g(x1, y0) - g(x0, y0)) * fx;
            let bot = g(x0, y1) + (g(x1, y1) - g(x0, y1)) * fx;
            *o = (top + (bot - top) * fy).round().clamp(0.0, 255.0) as u8;
        }
        Rgb(px)
    });
    DynamicImage::ImageRgb8(out)
}

/// Rotate the hue by `deg` (about the gray axis, in YIQ-like chroma
/// coordinates) and scale the saturation by `sat`; luma kept.
pub fn hue_saturation(img: &DynamicImage, deg: f32, sat: f32) -> DynamicImage {
    let (s, c) = deg.to_radians().sin_cos();
    let mut rgb = img.to_rgb8();
    for px in rgb.pixels_mut() {
        let [r, g, b] = px.0.map(f32::from);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let (u, v) = (b - y, r - y);
        let (u2, v2) = (sat * (c * u - s * v), sat * (s * u + c * v));
        let r2 = y + v2;
        let b2 = y + u2;
        let g2 = (y - 0.299 * r2 - 0.114 * b2) / 0.587;
        px.0 = [r2, g2, b2].map(|v| v.round().clamp(0.0, 255.0) as u8);
    }
    DynamicImage::ImageRgb8(rgb)
}

/// 3x3 median on every channel (edges replicated).
pub fn median3(img: &DynamicImage) -> DynamicImage {
    let src = img.to_rgb8();
    let (w, h) = src.dimensions();
    let out = RgbImage::from_fn(w, h, |x, y| {
        let mut px = [0u8; 3];
        for (k, o) in px.iter_mut().enumerate() {
            let mut v = [0u8; 9];
            let mut i = 0;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let xx = (i64::from(x) + dx).clamp(0, i64::from(w) - 1) as u32;
                    let yy = (i64::from(y) + dy).clamp(0, i64::from(h) - 1) as u32;
                    v[i] = src.get_pixel(xx, yy).0[k];
                    i += 1;
                }
            }
            v.sort_unstable();
            *o = v[4];
        }
        Rgb(px)
    });
    DynamicImage::ImageRgb8(out)
}

/// Unsharp mask: out = in + amount * (in - blur(in, sigma)).
pub fn unsharp(img: &DynamicImage, sigma: f32, amount: f32) -> DynamicImage {
    let src = img.to_rgb8();
    let blurred = DynamicImage::ImageRgb8(src.clone()).blur(sigma).to_rgb8();
    let mut out = src;
    for (o, b) in out.iter_mut().zip(blurred.iter()) {
        let v = f32::from(*o);
        *o = (v + amount * (v - f32::from(*b))).round().clamp(0.0, 255.0) as u8;
    }
    DynamicImage::ImageRgb8(out)
}

/// A caption band over the bottom 15% (dark, with light text-like glyph
/// blocks) and three opaque stickers of ~10% of the short side, placed by
/// `seed`.
pub fn caption(img: &DynamicImage, seed: u64) -> DynamicImage {
    let mut rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let mut rng = Prng::new(seed, 0x4341_5054);
    let band = (h as f32 * 0.15).round() as u32;
    let glyph = (band / 3).max(2);
    for y in h - band..h {
        for x in 0..w {
            let (gx, gy) = (x / (glyph / 2).max(1), (y - (h - band)) / glyph);
            // Deterministic "text": rows of glyph cells, some lit.
            let lit = gy == 1 && (gx.wrapping_mul(2_654_435_761) >> 7) % 3 != 0;
            let v = if lit && (x % (glyph / 2).max(1)) > 1 {
                235
            } else {
                20
            };
            rgb.put_pixel(x, y, Rgb([v, v, v]));
        }
    }
    let side = (w.min(h) / 10).max(4);
    for _ in 0..3 {
        let x0 = rng.below((w - side).max(1) as usize) as u32;
        let y0 = rng.below((h - band).saturating_sub(side).max(1) as usize) as u32;
        let colour = Rgb([
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ]);
        let r2 = (side as f32 / 2.0).powi(2);
        for y in y0..(y0 + side).min(h) {
            for x in x0..(x0 + side).min(w) {
                let (dx, dy) = (
                    x as f32 - (x0 as f32 + side as f32 / 2.0),
                    y as f32 - (y0 as f32 + side as f32 / 2.0),
                );
                if dx * dx + dy * dy <= r2 {
                    rgb.put_pixel(x, y, colour);
                }
            }
        }
    }
    DynamicImage::ImageRgb8(rgb)
}

fn map_levels(img: &DynamicImage, f: impl Fn(f32) -> f32) -> DynamicImage {
    let mut rgb = img.to_rgb8();
    for v in rgb.iter_mut() {
        *v = f(f32::from(*v)).round().clamp(0.0, 255.0) as u8;
    }
    DynamicImage::ImageRgb8(rgb)
}

/// Additive Gaussian noise, independent per channel.
pub fn noise(img: &DynamicImage, sigma: f32, seed: u64) -> DynamicImage {
    let mut rng = Prng::new(seed, 0x004E_4F49_5345);
    let mut rgb = img.to_rgb8();
    for v in rgb.iter_mut() {
        *v = (f32::from(*v) + sigma * rng.gaussian() as f32)
            .round()
            .clamp(0.0, 255.0) as u8;
    }
    DynamicImage::ImageRgb8(rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        }))
    }

    #[test]
    fn geometric_attacks_do_what_they_say() {
        let img = ramp(64, 48);
        // The identity warp keeps every pixel; mirroring flips columns.
        assert_eq!(warp(&img, [1.0, 0.0, 0.0, 1.0]).to_rgb8(), img.to_rgb8());
        let m = Attack::Mirror.apply(&img, 0).unwrap().to_rgb8();
        assert_eq!(m.get_pixel(0, 5), img.to_rgb8().get_pixel(63, 5));
        // Aspect change: height scaled, width kept.
        let a = Attack::Aspect(0.8).apply(&img, 0).unwrap();
        assert_eq!((a.width(), a.height()), (64, 38));
        // Shear and affine keep the canvas.
        for at in [Attack::Shear(0.15), Attack::Affine([1.1, 0.1, -0.05, 0.85])] {
            let o = at.apply(&img, 0).unwrap();
            assert_eq!((o.width(), o.height()), (64, 48));
            assert_ne!(o.to_rgb8(), img.to_rgb8());
        }
        // Every hard attack runs and names itself uniquely.
        let names: std::collections::HashSet<String> =
            Attack::hard().iter().map(Attack::name).collect();
        assert_eq!(names.len(), Attack::hard().len());
        for at in Attack::hard() {
            assert!(at.apply(&ramp(300, 260), 1).is_ok(), "{}", at.name());
        }
    }
}
