//! Image attacks for robustness tests and benchmarks: re-encoding (PNG,
//! JPEG with 4:2:0 chroma), resizing, crops, rotation, gain changes, blur,
//! noise and a "social media" chain. Shared by the property tests and the
//! robustness benchmark so both measure the same thing.

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
    let w = ((img.width() as f32 * f).round() as u32).max(1);
    let h = ((img.height() as f32 * f).round() as u32).max(1);
    img.resize_exact(w, h, FilterType::CatmullRom)
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
    let src = img.to_rgb8();
    let (w, h) = src.dimensions();
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let out = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = c * dx + s * dy + cx - 0.5;
        let sy = -s * dx + c * dy + cy - 0.5;
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
