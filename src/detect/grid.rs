//! Preprocessing: the crop grid and the normalised NCHW batch.
//!
//! Pixel detectors lose their signal when an image is resized, so the image
//! is never resized: the model sees S x S crops at native resolution, laid
//! out on a grid that covers the image (`models/CARD.md`, "The crop grid").
//! Offsets are computed in integers so Python and Rust agree to the pixel.

use image::DynamicImage;
use serde::Serialize;

use super::card::{CropSpec, InputSpec, Pad};

/// One crop window: its top-left corner in image pixels. Negative when the
/// image is smaller than the crop on that axis (the window is then padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Crop {
    /// Left offset.
    pub x: i64,
    /// Top offset.
    pub y: i64,
}

/// Left (or top) offsets of the crops along one axis of length `len`.
pub fn axis_offsets(len: u32, size: u32) -> Vec<i64> {
    let (len, s) = (i64::from(len), i64::from(size.max(1)));
    let n = ((len + s - 1) / s).max(1);
    if n == 1 {
        // len <= s: one centred window (offset 0 when len == s).
        return vec![-((s - len) / 2)];
    }
    let span = len - s;
    (0..n)
        .map(|i| (2 * i * span + (n - 1)) / (2 * (n - 1)))
        .collect()
}

/// The crop grid of a `width` x `height` image: row-major, at most
/// `max_crops` windows (an evenly spaced subset when the full grid is larger).
pub fn grid(width: u32, height: u32, spec: &CropSpec) -> Vec<Crop> {
    let xs = axis_offsets(width, spec.size);
    let ys = axis_offsets(height, spec.size);
    let all: Vec<Crop> = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| Crop { x, y }))
        .collect();
    subset(all, spec.max_crops as usize)
}

fn subset(all: Vec<Crop>, k: usize) -> Vec<Crop> {
    let n = all.len();
    if n <= k || k == 0 {
        return all;
    }
    if k == 1 {
        return vec![all[(n - 1) / 2]];
    }
    (0..k)
        .map(|m| all[(2 * m * (n - 1) + (k - 1)) / (2 * (k - 1))])
        .collect()
}

/// Map a coordinate outside `[0, n)` per the padding rule; `None` = zero.
fn source_index(i: i64, n: i64, pad: Pad) -> Option<usize> {
    if (0..n).contains(&i) {
        return usize::try_from(i).ok();
    }
    match pad {
        Pad::Zero => None,
        Pad::Reflect => {
            if n <= 1 {
                return Some(0);
            }
            let period = 2 * (n - 1);
            let m = i.rem_euclid(period);
            usize::try_from(if m >= n { period - m } else { m }).ok()
        }
    }
}

/// 8-bit RGB pixels of an image, borrowed when the decoder already produced
/// 8-bit RGB or RGBA (alpha is dropped, not composited), converted otherwise.
pub struct RgbView<'a> {
    pub(crate) data: std::borrow::Cow<'a, [u8]>,
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) stride: usize, // bytes per pixel: 3 or 4
}

impl<'a> RgbView<'a> {
    /// View (or convert) an image as 8-bit RGB.
    pub fn new(img: &'a DynamicImage) -> Self {
        let (width, height) = (img.width() as usize, img.height() as usize);
        match img {
            DynamicImage::ImageRgb8(b) => RgbView {
                data: std::borrow::Cow::Borrowed(b.as_raw()),
                width,
                height,
                stride: 3,
            },
            DynamicImage::ImageRgba8(b) => RgbView {
                data: std::borrow::Cow::Borrowed(b.as_raw()),
                width,
                height,
                stride: 4,
            },
            other => RgbView {
                data: std::borrow::Cow::Owned(other.to_rgb8().into_raw()),
                width,
                height,
                stride: 3,
            },
        }
    }
}

/// A batch of normalised crops, NCHW float32.
#[derive(Debug, Clone, PartialEq)]
pub struct CropBatch {
    /// `n * 3 * size * size` values.
    pub data: Vec<f32>,
    /// Number of crops.
    pub n: usize,
    /// Crop side.
    pub size: usize,
}

impl CropBatch {
    /// The values of crop `k` (3 x size x size).
    pub fn crop(&self, k: usize) -> &[f32] {
        let len = 3 * self.size * self.size;
        &self.data[k * len..(k + 1) * len]
    }
}

/// Per-channel lookup table: `lut[c][v] = (v / scale - mean[c]) / std[c]`.
pub(crate) fn lookup_tables(scale: f32, mean: &[f32; 3], std: &[f32; 3]) -> [[f32; 256]; 3] {
    let mut lut = [[0f32; 256]; 3];
    for (c, table) in lut.iter_mut().enumerate() {
        for (v, out) in table.iter_mut().enumerate() {
            *out = (v as f32 / scale - mean[c]) / std[c];
        }
    }
    lut
}

/// Cut `crops` out of `img`, pad and normalise them into one NCHW batch.
pub fn make_batch(
    img: &RgbView<'_>,
    crops: &[Crop],
    crop: &CropSpec,
    input: &InputSpec,
) -> CropBatch {
    let s = crop.size as usize;
    let lut = lookup_tables(input.scale, &input.mean, &input.std);
    let plane = s * s;
    let mut data = vec![0f32; crops.len() * 3 * plane];
    let (w, h, st) = (img.width as i64, img.height as i64, img.stride);
    let mut cols: Vec<Option<usize>> = Vec::with_capacity(s);
    for (k, c) in crops.iter().enumerate() {
        let out = &mut data[k * 3 * plane..(k + 1) * 3 * plane];
        cols.clear();
        cols.extend((0..s as i64).map(|dx| source_index(c.x + dx, w, crop.pad)));
        let inside_x = c.x >= 0 && c.x + s as i64 <= w;
        for dy in 0..s {
            let row = source_index(c.y + dy as i64, h, crop.pad);
            let (r_out, rest) = out.split_at_mut(plane);
            let (g_out, b_out) = rest.split_at_mut(plane);
            let dst = dy * s..(dy + 1) * s;
            let (r_out, g_out, b_out) = (
                &mut r_out[dst.clone()],
                &mut g_out[dst.clone()],
                &mut b_out[dst],
            );
            let Some(sy) = row else {
                r_out.fill(lut[0][0]);
                g_out.fill(lut[1][0]);
                b_out.fill(lut[2][0]);
                continue;
            };
            let src_row = &img.data[sy * img.width * st..(sy + 1) * img.width * st];
            if inside_x {
                // Fast path: the whole row of the crop lies inside the image.
                let x0 = c.x as usize;
                let px = src_row[x0 * st..(x0 + s) * st].chunks_exact(st);
                for (((p, r), g), b) in px
                    .zip(r_out.iter_mut())
                    .zip(g_out.iter_mut())
                    .zip(b_out.iter_mut())
                {
                    *r = lut[0][p[0] as usize];
                    *g = lut[1][p[1] as usize];
                    *b = lut[2][p[2] as usize];
                }
            } else {
                for (dx, sx) in cols.iter().enumerate() {
                    let (rv, gv, bv) = match sx {
                        Some(sx) => {
                            let p = &src_row[sx * st..sx * st + 3];
                            (p[0], p[1], p[2])
                        }
                        None => (0, 0, 0),
                    };
                    r_out[dx] = lut[0][rv as usize];
                    g_out[dx] = lut[1][gv as usize];
                    b_out[dx] = lut[2][bv as usize];
                }
            }
        }
    }
    CropBatch {
        data,
        n: crops.len(),
        size: s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(size: u32, max_crops: u32, pad: Pad) -> CropSpec {
        CropSpec {
            size,
            max_crops,
            policy: "grid".into(),
            min_side: 1,
            pad,
        }
    }

    fn input(mean: f32, std: f32) -> InputSpec {
        InputSpec {
            name: "x".into(),
            layout: "NCHW".into(),
            channels: "RGB".into(),
            dtype: "float32".into(),
            scale: 255.0,
            mean: [mean; 3],
            std: [std; 3],
        }
    }

    #[test]
    fn axis_offsets_cover_the_image_with_even_overlap() {
        assert_eq!(axis_offsets(256, 256), vec![0]);
        assert_eq!(axis_offsets(257, 256), vec![0, 1]);
        assert_eq!(axis_offsets(512, 256), vec![0, 256]);
        assert_eq!(axis_offsets(600, 256), vec![0, 172, 344]);
        // 1000 - 256 = 744; 744 / 3 = 248: 0, 248, 496, 744.
        assert_eq!(axis_offsets(1000, 256), vec![0, 248, 496, 744]);
        // Halves round up: 1 * 5 / 2 = 2.5 -> 3 (Python's round() would give 2).
        assert_eq!(axis_offsets(8, 3), vec![0, 3, 5]);
        assert_eq!(axis_offsets(7, 2), vec![0, 2, 3, 5]);
    }

    #[test]
    fn small_axes_get_one_centred_padded_window() {
        assert_eq!(axis_offsets(100, 256), vec![-78]);
        assert_eq!(axis_offsets(101, 256), vec![-77]);
        assert_eq!(axis_offsets(1, 4), vec![-1]);
    }

    #[test]
    fn grid_is_row_major_and_subsampled_evenly() {
        let g = grid(600, 300, &spec(256, 16, Pad::Zero));
        let xy: Vec<(i64, i64)> = g.iter().map(|c| (c.x, c.y)).collect();
        assert_eq!(
            xy,
            vec![(0, 0), (172, 0), (344, 0), (0, 44), (172, 44), (344, 44)]
        );
        // 4 x 4 = 16 crops, keep 4: indices 0, 5, 10, 15 (the diagonal).
        let g = grid(1024, 1024, &spec(256, 4, Pad::Zero));
        let xy: Vec<(i64, i64)> = g.iter().map(|c| (c.x, c.y)).collect();
        assert_eq!(xy, vec![(0, 0), (256, 256), (512, 512), (768, 768)]);
        let g = grid(768, 768, &spec(256, 1, Pad::Zero));
        assert_eq!(g, vec![Crop { x: 256, y: 256 }]);
        // 12 MP at S=256, K=16: exactly 16 distinct crops.
        let g = grid(4000, 3000, &spec(256, 16, Pad::Zero));
        assert_eq!(g.len(), 16);
        assert_eq!(g[0], Crop { x: 0, y: 0 });
        assert_eq!(g[15], Crop { x: 3744, y: 2744 });
    }

    #[test]
    fn reflect_matches_numpy_pad_reflect() {
        // numpy.pad([0,1,2,3], 5, mode="reflect") = [1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2]
        let left: Vec<usize> = (-5..0)
            .map(|i| source_index(i, 4, Pad::Reflect).unwrap())
            .collect();
        assert_eq!(left, vec![1, 2, 3, 2, 1]);
        let right: Vec<usize> = (4..9)
            .map(|i| source_index(i, 4, Pad::Reflect).unwrap())
            .collect();
        assert_eq!(right, vec![2, 1, 0, 1, 2]);
        assert_eq!(source_index(-3, 1, Pad::Reflect), Some(0));
        assert_eq!(source_index(-1, 4, Pad::Zero), None);
    }

    #[test]
    fn batch_is_nchw_normalised_and_padded() {
        // 2x1 image: red pixel then blue pixel; crop 4, zero pad; window x = -1, y = -1.
        let mut img = image::RgbImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        img.put_pixel(1, 0, image::Rgb([0, 0, 255]));
        let dynimg = DynamicImage::ImageRgb8(img);
        let view = RgbView::new(&dynimg);
        let crops = grid(2, 1, &spec(4, 4, Pad::Zero));
        assert_eq!(crops, vec![Crop { x: -1, y: -1 }]);
        let b = make_batch(&view, &crops, &spec(4, 4, Pad::Zero), &input(0.5, 0.5));
        assert_eq!((b.n, b.size, b.data.len()), (1, 4, 48));
        // (v/255 - 0.5) / 0.5: 0 -> -1, 255 -> 1.
        let r = &b.data[0..16];
        let bl = &b.data[32..48];
        let row1_r: Vec<f32> = r[4..8].to_vec();
        let row1_b: Vec<f32> = bl[4..8].to_vec();
        assert_eq!(row1_r, vec![-1.0, 1.0, -1.0, -1.0]);
        assert_eq!(row1_b, vec![-1.0, -1.0, 1.0, -1.0]);
        assert!(r[0..4].iter().all(|v| *v == -1.0));
        // Reflect: the row above mirrors row 0 (H = 1 -> index 0), columns mirror too.
        let b = make_batch(&view, &crops, &spec(4, 4, Pad::Reflect), &input(0.5, 0.5));
        let r = &b.data[0..16];
        assert_eq!(r[0..4].to_vec(), vec![-1.0, 1.0, -1.0, 1.0]);
    }

    #[test]
    fn gray_and_alpha_images_become_rgb() {
        let gray = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(3, 3, image::Luma([51])));
        let view = RgbView::new(&gray);
        let b = make_batch(
            &view,
            &[Crop { x: 0, y: 0 }],
            &spec(3, 1, Pad::Zero),
            &input(0.0, 1.0),
        );
        assert!(b.data.iter().all(|v| (*v - 0.2).abs() < 1e-6));
        let rgba = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            3,
            3,
            image::Rgba([255, 0, 51, 0]),
        ));
        let view = RgbView::new(&rgba);
        let b = make_batch(
            &view,
            &[Crop { x: 0, y: 0 }],
            &spec(3, 1, Pad::Zero),
            &input(0.0, 1.0),
        );
        assert_eq!(b.crop(0)[0], 1.0);
        assert_eq!(b.crop(0)[9], 0.0);
        assert!((b.crop(0)[18] - 0.2).abs() < 1e-6);
    }
}
