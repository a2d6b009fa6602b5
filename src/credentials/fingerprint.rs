//! The perceptual fingerprint: a 256-bit DCT hash in the spirit of PDQ.
//!
//! The image's luma is area-averaged to a 64x64 grid (whatever its aspect
//! ratio), the 16x16 lowest non-DC coefficients of its 2-D DCT-II are
//! taken, and each bit says whether a coefficient exceeds their median. So
//! re-encoding, resizing, gain and contrast changes, blur and mild noise
//! move few bits; a different image moves about half of them.
//!
//! The 64x64 grid itself (4 KiB) is kept in the registry too: it lets
//! [`best_region_distance`] hash any window of the registered image, so a
//! cropped copy can be compared with the part of the original it shows.
//!
//! Hazards: a flat or nearly flat image has a meaningless hash (its
//! coefficients are noise); [`Fingerprint::quality`] measures the grid's
//! texture and callers must not match on hashes of low quality. Mirroring
//! and large rotations are not handled.

use std::sync::OnceLock;

use image::imageops::FilterType;
use image::DynamicImage;

use crate::error::{Error, Result};

/// Side of the luma grid a fingerprint is computed from.
pub const GRID: usize = 64;
/// Side of the block of DCT coefficients kept (16x16 = 256 bits).
const KEEP: usize = 16;
/// Number of bits in a fingerprint.
pub const BITS: u32 = 256;
/// Below this [`Fingerprint::quality`] a hash is too flat to match on.
pub const MIN_QUALITY: u8 = 20;

/// A 256-bit perceptual hash, bit `i` at byte `i / 8`, most significant first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash256(pub [u8; 32]);

impl std::fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash256({})", self.to_hex())
    }
}

impl Hash256 {
    /// Number of differing bits (0..=256).
    pub fn distance(&self, other: &Hash256) -> u32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Hash256> {
        let v = hex::decode(s.trim())
            .map_err(|e| Error::InvalidInput(format!("fingerprint: not hex: {e}")))?;
        Hash256::from_slice(&v)
    }

    /// From exactly 32 bytes.
    pub fn from_slice(b: &[u8]) -> Result<Hash256> {
        let a: [u8; 32] = b.try_into().map_err(|_| {
            Error::InvalidInput(format!("fingerprint: expected 32 bytes, got {}", b.len()))
        })?;
        Ok(Hash256(a))
    }

    /// The 16-bit chunk `i` (0..16) of the hash, for multi-index hashing.
    pub fn chunk(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.0[2 * i], self.0[2 * i + 1]])
    }
}

/// A 64x64 luma grid (row-major, 8-bit), what fingerprints are made of.
#[derive(Clone, PartialEq, Eq)]
pub struct Grid(pub Vec<u8>);

impl std::fmt::Debug for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Grid({} bytes)", self.0.len())
    }
}

impl Grid {
    /// The luma of `img`, resampled (area-averaging when shrinking) to 64x64.
    pub fn of(img: &DynamicImage) -> Grid {
        let gray = img.to_luma8();
        let small = image::imageops::resize(&gray, GRID as u32, GRID as u32, FilterType::Triangle);
        Grid(small.into_raw())
    }

    /// A stored grid (must be 64x64 bytes).
    pub fn from_bytes(b: Vec<u8>) -> Result<Grid> {
        if b.len() != GRID * GRID {
            return Err(Error::InvalidInput(format!(
                "fingerprint grid: expected {} bytes, got {}",
                GRID * GRID,
                b.len()
            )));
        }
        Ok(Grid(b))
    }
}

/// A fingerprint: the hash and how much texture it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The 256-bit hash.
    pub hash: Hash256,
    /// Texture of the grid, 0 (flat) to 100; see [`MIN_QUALITY`].
    pub quality: u8,
    /// The grid the hash was computed from.
    pub grid: Grid,
}

impl Fingerprint {
    /// Fingerprint an image.
    pub fn of(img: &DynamicImage) -> Fingerprint {
        Fingerprint::of_grid(Grid::of(img))
    }

    /// Fingerprint a grid.
    pub fn of_grid(grid: Grid) -> Fingerprint {
        let pixels: Vec<f32> = grid.0.iter().map(|&v| f32::from(v)).collect();
        Fingerprint {
            hash: hash_pixels(&pixels),
            quality: quality(&pixels),
            grid,
        }
    }

    /// Whether the hash carries enough texture to be matched on.
    pub fn usable(&self) -> bool {
        self.quality >= MIN_QUALITY
    }
}

/// The 16x64 DCT-II basis rows 1..=16 (the DC row is skipped), orthonormal scale.
fn dct_matrix() -> &'static [f32] {
    static M: OnceLock<Vec<f32>> = OnceLock::new();
    M.get_or_init(|| {
        let n = GRID as f64;
        let scale = (2.0 / n).sqrt();
        let mut m = Vec::with_capacity(KEEP * GRID);
        for i in 1..=KEEP {
            for j in 0..GRID {
                let v = scale
                    * (std::f64::consts::PI * i as f64 * (2 * j + 1) as f64 / (2.0 * n)).cos();
                m.push(v as f32);
            }
        }
        m
    })
}

/// Hash 64x64 luma samples: D * A * D^T, bits above the median.
fn hash_pixels(a: &[f32]) -> Hash256 {
    let d = dct_matrix();
    hash_coefficients(&project(d, &right_project(a, d), GRID))
}

/// `a * p^T` for a 64x64 `a` and a 16x64 `p`: 64 x 16, row-major.
fn right_project(a: &[f32], p: &[f32]) -> Vec<f32> {
    let mut c = vec![0f32; GRID * KEEP];
    for (arow, crow) in a.chunks_exact(GRID).zip(c.chunks_exact_mut(KEEP)) {
        for (cv, prow) in crow.iter_mut().zip(p.chunks_exact(GRID)) {
            *cv = arow.iter().zip(prow).map(|(x, y)| x * y).sum();
        }
    }
    c
}

/// `p * c` for a 16 x `n` `p` and an `n` x 16 `c`: 16 x 16.
fn project(p: &[f32], c: &[f32], n: usize) -> [f32; KEEP * KEEP] {
    let mut b = [0f32; KEEP * KEEP];
    for (prow, brow) in p.chunks_exact(n).zip(b.chunks_exact_mut(KEEP)) {
        for (&pv, crow) in prow.iter().zip(c.chunks_exact(KEEP)) {
            for (bv, &cv) in brow.iter_mut().zip(crow) {
                *bv += pv * cv;
            }
        }
    }
    b
}

/// Bits: which of the 256 coefficients exceed their median.
fn hash_coefficients(b: &[f32; KEEP * KEEP]) -> Hash256 {
    let mut sorted = *b;
    sorted.sort_by(f32::total_cmp);
    let median = (sorted[127] + sorted[128]) / 2.0;
    let mut out = [0u8; 32];
    for (i, v) in b.iter().enumerate() {
        if *v > median {
            out[i / 8] |= 0x80 >> (i % 8);
        }
    }
    Hash256(out)
}

/// The DCT basis composed with bilinear resampling of the window
/// `[start, start + len)` of a 64-sample axis onto 64 samples: 16 x 64.
fn window_basis(start: f32, len: f32) -> Vec<f32> {
    let d = dct_matrix();
    let mut p = vec![0f32; KEEP * GRID];
    for j in 0..GRID {
        // Output sample j reads the grid at this position (centres at +0.5).
        let pos =
            (start + (j as f32 + 0.5) * len / GRID as f32 - 0.5).clamp(0.0, (GRID - 1) as f32);
        let i0 = pos.floor() as usize;
        let f = pos - i0 as f32;
        let i1 = (i0 + 1).min(GRID - 1);
        for k in 0..KEEP {
            let dv = d[k * GRID + j];
            p[k * GRID + i0] += dv * (1.0 - f);
            p[k * GRID + i1] += dv * f;
        }
    }
    p
}

/// Texture measure: mean absolute neighbour difference of the grid, in
/// gray levels, times 10, capped at 100 (PDQ uses a similar gradient sum).
fn quality(a: &[f32]) -> u8 {
    let mut sum = 0f32;
    for y in 0..GRID {
        for x in 0..GRID {
            let v = a[y * GRID + x];
            if x + 1 < GRID {
                sum += (a[y * GRID + x + 1] - v).abs();
            }
            if y + 1 < GRID {
                sum += (a[(y + 1) * GRID + x] - v).abs();
            }
        }
    }
    let mean = sum / (2 * GRID * (GRID - 1)) as f32;
    (mean * 10.0).round().clamp(0.0, 100.0) as u8
}

/// The window scales (fraction of each side) tried by [`best_region_distance`].
pub const REGION_SCALES: [f32; 7] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
/// Step between window positions, in grid cells (1/64 of a side).
pub const REGION_STEP: usize = 2;

/// The best match of `query` against any square window of `grid` (square in
/// grid units, so the registered image's aspect ratio is kept): each of
/// [`REGION_SCALES`], at positions [`REGION_STEP`] cells apart. Returns the
/// smallest Hamming distance and the window `[x, y, side]` as fractions of
/// the registered image. A cropped copy of a registered image is close to
/// the window it shows; an unrelated image is close to none (about 1,100
/// windows are tried, so thresholds on this distance must be stricter
/// than on a single comparison).
pub fn best_region_distance(grid: &Grid, query: &Hash256) -> (u32, [f32; 3]) {
    let g: Vec<f32> = grid.0.iter().map(|&v| f32::from(v)).collect();
    let mut best = (u32::MAX, [0.0, 0.0, 1.0]);
    for &s in &REGION_SCALES {
        let side = s * GRID as f32;
        let positions = window_positions(GRID as f32 - side);
        let bases: Vec<Vec<f32>> = positions.iter().map(|&p| window_basis(p, side)).collect();
        for (&x, px) in positions.iter().zip(&bases) {
            // c = G * Px^T depends on the horizontal window only.
            let c = right_project(&g, px);
            for (&y, py) in positions.iter().zip(&bases) {
                let d = hash_coefficients(&project(py, &c, GRID)).distance(query);
                if d < best.0 {
                    best = (d, [x / GRID as f32, y / GRID as f32, s]);
                }
            }
        }
    }
    best
}

/// How well a query image's fingerprint matches a registered one,
/// allowing for crops either way: the smallest of the global distance,
/// the query against every window of the registered image (the query is a
/// crop), and the registered image against every window of the query (the
/// query shows more: a screenshot with the page around it).
pub fn content_distance(registered: &Fingerprint, query: &Fingerprint) -> u32 {
    let global = registered.hash.distance(&query.hash);
    if global == 0 {
        return 0;
    }
    let (inner, _) = best_region_distance(&registered.grid, &query.hash);
    let (outer, _) = best_region_distance(&query.grid, &registered.hash);
    global.min(inner).min(outer)
}

/// Pearson correlation of two grids' luma (1: the same picture up to gain
/// and offset; a different photo of the same scene, or an AI edit of the
/// same input, about 0.9; unrelated pictures near 0). `None` when either
/// grid is flat.
pub fn grid_correlation(a: &Grid, b: &Grid) -> Option<f64> {
    pearson(
        a.0.iter().map(|&v| f64::from(v)),
        b.0.iter().map(|&v| f64::from(v)),
    )
}

/// Pearson correlation of the two grids' details: each cell minus the mean
/// of its 3x3 neighbourhood. The low frequencies that two pictures of one
/// scene share drop out, so this tells a re-encoded copy (close to 1)
/// from another take or an edit of the same scene. `None` when either is
/// flat.
pub fn detail_correlation(a: &Grid, b: &Grid) -> Option<f64> {
    let (da, db) = (detail(a), detail(b));
    pearson(da.into_iter(), db.into_iter())
}

/// Each interior cell minus the mean of its 3x3 neighbourhood.
fn detail(g: &Grid) -> Vec<f64> {
    let at = |x: usize, y: usize| f64::from(g.0[y * GRID + x]);
    let mut out = Vec::with_capacity((GRID - 2) * (GRID - 2));
    for y in 1..GRID - 1 {
        for x in 1..GRID - 1 {
            let mut sum = 0.0;
            for dy in 0..3 {
                for dx in 0..3 {
                    sum += at(x + dx - 1, y + dy - 1);
                }
            }
            out.push(at(x, y) - sum / 9.0);
        }
    }
    out
}

fn pearson(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in a.zip(b) {
        n += 1.0;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    let va = saa - sa * sa / n;
    let vb = sbb - sb * sb / n;
    if n < 2.0 || va <= 1e-9 * n || vb <= 1e-9 * n {
        return None;
    }
    Some((sab - sa * sb / n) / (va * vb).sqrt())
}

/// Window starts from 0 to `slack` (inclusive) every [`REGION_STEP`] cells.
fn window_positions(slack: f32) -> Vec<f32> {
    let mut v: Vec<f32> = (0..)
        .map(|i| (i * REGION_STEP) as f32)
        .take_while(|&p| p < slack - 0.5)
        .collect();
    v.push(slack.max(0.0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn textured(w: u32, h: u32, seed: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let s = seed as f32;
            let v = 128.0
                + 60.0 * (fx * (7.0 + s) + fy * 3.0).sin()
                + 40.0 * (fy * (11.0 + 2.0 * s) - fx * s).cos()
                + 20.0 * ((fx * fy) * (23.0 + s)).sin();
            let v = v.clamp(0.0, 255.0) as u8;
            Rgb([v, v.wrapping_add(10), v / 2])
        }))
    }

    #[test]
    fn identical_images_hash_identically_and_others_differ() {
        let a = Fingerprint::of(&textured(300, 200, 1));
        let b = Fingerprint::of(&textured(300, 200, 1));
        let c = Fingerprint::of(&textured(300, 200, 5));
        assert_eq!(a.hash, b.hash);
        assert!(
            a.hash.distance(&c.hash) > 64,
            "{}",
            a.hash.distance(&c.hash)
        );
        assert_eq!(a.hash.0.iter().map(|b| b.count_ones()).sum::<u32>(), 128);
    }

    #[test]
    fn resizing_moves_few_bits() {
        let img = textured(600, 400, 2);
        let a = Fingerprint::of(&img);
        let b = Fingerprint::of(&img.resize_exact(300, 200, FilterType::Triangle));
        assert!(
            a.hash.distance(&b.hash) <= 16,
            "{}",
            a.hash.distance(&b.hash)
        );
    }

    #[test]
    fn a_crop_matches_its_window_of_the_original() {
        let img = textured(640, 480, 3);
        let orig = Fingerprint::of(&img);
        let crop = img.crop_imm(64, 48, 384, 288); // 60% of each side
        let q = Fingerprint::of(&crop);
        let global = orig.hash.distance(&q.hash);
        let (region, win) = best_region_distance(&orig.grid, &q.hash);
        assert!(region + 30 < global, "region {region}, global {global}");
        assert!((win[2] - 0.6).abs() < 0.11, "{win:?}");
    }

    #[test]
    fn flat_images_have_low_quality() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 100, Rgb([90, 90, 90])));
        assert!(!Fingerprint::of(&flat).usable());
        assert!(Fingerprint::of(&textured(300, 300, 4)).usable());
    }

    #[test]
    fn details_tell_a_copy_from_an_edit() {
        let img = textured(320, 240, 6);
        let a = Fingerprint::of(&img);
        let copy = Fingerprint::of(&img.resize_exact(480, 360, FilterType::Triangle));
        let r = detail_correlation(&a.grid, &copy.grid).unwrap();
        assert!(r > 0.95, "{r}");
        // The same picture with other fine detail: every 4x4 block moved
        // up or down by 12 (the hash barely moves, the details disagree).
        let mut edit = img.to_rgb8();
        for (x, y, p) in edit.enumerate_pixels_mut() {
            let up = ((x / 4) * 7 + (y / 4) * 13) % 3 == 0;
            for c in p.0.iter_mut() {
                *c = if up {
                    c.saturating_add(12)
                } else {
                    c.saturating_sub(12)
                };
            }
        }
        let e = Fingerprint::of(&DynamicImage::ImageRgb8(edit));
        let r = detail_correlation(&a.grid, &e.grid).unwrap();
        assert!(r < 0.8, "{r}");
        assert!(grid_correlation(&a.grid, &e.grid).unwrap() > r);
        let flat = Grid(vec![7; GRID * GRID]);
        assert_eq!(detail_correlation(&a.grid, &flat), None);
        assert_eq!(grid_correlation(&flat, &a.grid), None);
    }

    #[test]
    fn hex_round_trip_and_bad_lengths() {
        let h = Fingerprint::of(&textured(100, 100, 1)).hash;
        assert_eq!(Hash256::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash256::from_hex("abcd").is_err());
        assert!(Grid::from_bytes(vec![0; 10]).is_err());
    }
}
