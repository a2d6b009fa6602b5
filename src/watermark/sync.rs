//! Synchronisation, part 1: estimate the lattice on which the tile repeats
//! (its two period vectors, which give scale and rotation) from the peaks of
//! the autocorrelation of the whitened luma. The spectrum is locally
//! whitened before the inverse transform so the periodic comb of the
//! watermark stands out of the broadband image content.

use rustfft::num_complex::Complex32;

use super::fft2::{smooth_size, Fft2};
use super::pattern::TILE;
use super::plane::{box_mean, shrink, Plane};
use super::template;

/// A tile lattice: image displacement (working pixels) of one tile along
/// the tile's x axis (`v1`) and y axis (`v2`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lattice {
    /// Tile x axis, working pixels.
    pub v1: [f64; 2],
    /// Tile y axis, working pixels.
    pub v2: [f64; 2],
}

impl Lattice {
    /// The lattice as embedded, for an image whose geometry is unchanged.
    pub fn identity() -> Self {
        let t = TILE as f64;
        Lattice {
            v1: [t, 0.0],
            v2: [0.0, t],
        }
    }

    /// The same lattice with periods multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Self {
        Lattice {
            v1: [self.v1[0] * k, self.v1[1] * k],
            v2: [self.v2[0] * k, self.v2[1] * k],
        }
    }

    /// Period (mean length of the two vectors) relative to the tile.
    pub fn scale(&self) -> f64 {
        (norm(self.v1) + norm(self.v2)) / (2.0 * TILE as f64)
    }

    /// Angle of `v1`, degrees (clockwise on screen, as y points down).
    pub fn rotation_deg(&self) -> f64 {
        self.v1[1].atan2(self.v1[0]).to_degrees()
    }

    /// Whether `o` is within 3% of this lattice's first vector.
    pub fn close_to(&self, o: &Lattice) -> bool {
        let d = ((self.v1[0] - o.v1[0]).powi(2) + (self.v1[1] - o.v1[1]).powi(2)).sqrt();
        d < 0.03 * norm(self.v1)
    }
}

fn norm(v: [f64; 2]) -> f64 {
    v[0].hypot(v[1])
}

/// Shortest and longest lag searched, working pixels (tile periods between
/// about 0.35x and 2.6x of the embedded one).
const LAG_MIN: f64 = 44.0;
const LAG_MAX: f64 = 330.0;

struct Autocorr {
    a: Vec<f32>,
    fw: usize,
    fh: usize,
}

impl Autocorr {
    fn at(&self, dx: i64, dy: i64) -> f32 {
        let x = dx.rem_euclid(self.fw as i64) as usize;
        let y = dy.rem_euclid(self.fh as i64) as usize;
        self.a[y * self.fw + x]
    }

    /// The strongest sample within `r` of (x, y), refined to sub-pixel
    /// precision by parabolic fits.
    fn refine(&self, x: f64, y: f64, r: i64) -> ([f64; 2], f32) {
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        let mut best = (cx, cy, f32::NEG_INFINITY);
        for dy in -r..=r {
            for dx in -r..=r {
                let v = self.at(cx + dx, cy + dy);
                if v > best.2 {
                    best = (cx + dx, cy + dy, v);
                }
            }
        }
        let (bx, by, c) = best;
        let fit = |l: f32, r: f32| {
            let den = l - 2.0 * c + r;
            if den < 0.0 {
                (0.5 * (l - r) / den).clamp(-0.5, 0.5) as f64
            } else {
                0.0
            }
        };
        let ox = fit(self.at(bx - 1, by), self.at(bx + 1, by));
        let oy = fit(self.at(bx, by - 1), self.at(bx, by + 1));
        ([bx as f64 + ox, by as f64 + oy], c)
    }
}

/// Rotate a lattice vector by a multiple of 90 degrees into the sector
/// (-45, 45] degrees.
fn canonical(v: [f64; 2]) -> [f64; 2] {
    let mut v = v;
    for _ in 0..4 {
        if v[0] > 0.0 && v[1].abs() <= v[0] {
            return v;
        }
        v = [-v[1], v[0]];
    }
    v
}

/// Candidate lattices, best first: up to `max_comb` from the comb matcher
/// ([`template`]), then up to `max_auto` from the autocorrelation peaks
/// (which also cover rotations beyond the matcher's range).
pub fn candidates(p: &Plane, max_auto: usize, max_comb: usize) -> Vec<Lattice> {
    let d = if p.w.min(p.h) >= 520 { 2usize } else { 1 };
    let a = if d == 2 { shrink(p, 2) } else { p.clone() };
    let df = d as f64;
    let lag_max = (LAG_MAX / df).min(0.7 * a.w.min(a.h) as f64);
    let lag_min = LAG_MIN / df;
    if lag_max <= lag_min + 2.0 {
        return Vec::new();
    }
    let pad = lag_max.ceil() as usize + 2;
    let (fw, fh) = (smooth_size(a.w + pad), smooth_size(a.h + pad));
    let mean = a.data.iter().sum::<f32>() / a.data.len().max(1) as f32;
    let mut buf = vec![Complex32::new(0.0, 0.0); fw * fh];
    for y in 0..a.h {
        for x in 0..a.w {
            buf[y * fw + x].re = a.data[y * a.w + x] - mean;
        }
    }
    let fft = Fft2::new(fw, fh);
    fft.forward(&mut buf);
    let power = Plane {
        w: fw,
        h: fh,
        data: buf.iter().map(|c| c.norm_sqr()).collect(),
    };
    let smooth = box_mean(&power, 3);
    let floor = smooth.data.iter().sum::<f32>() / smooth.data.len().max(1) as f32 * 1e-3 + 1e-20;
    for y in 0..fh {
        let fy = (y.min(fh - y)) as f32 / fh as f32;
        for x in 0..fw {
            let fx = (x.min(fw - x)) as f32 / fw as f32;
            let i = y * fw + x;
            let low = (fx * fx + fy * fy).sqrt() * df as f32 <= 0.02;
            let v = if low {
                0.0
            } else {
                power.data[i] / (smooth.data[i] + floor)
            };
            buf[i] = Complex32::new(v, 0.0);
        }
    }
    let comb = template::candidates(
        &template::spectrum(buf.iter().map(|c| c.re).collect(), fw, fh),
        lag_min,
        lag_max,
        df,
        max_comb,
    );
    fft.inverse(&mut buf);
    let mut ac = Autocorr {
        a: vec![0.0; fw * fh],
        fw,
        fh,
    };
    for y in 0..fh {
        let dy = if y > fh / 2 { fh - y } else { y };
        for x in 0..fw {
            let dx = if x > fw / 2 { fw - x } else { x };
            let overlap = (a.w.saturating_sub(dx) * a.h.saturating_sub(dy)).max(1) as f32;
            ac.a[y * fw + x] = buf[y * fw + x].re / overlap;
        }
    }
    // Local maxima over the half plane of lags.
    let lm = lag_max.floor() as i64;
    let mut peaks: Vec<(f32, i64, i64)> = Vec::new();
    for dy in 0..=lm {
        for dx in -lm..=lm {
            let r = ((dx * dx + dy * dy) as f64).sqrt();
            if r < lag_min || r > lag_max || (dy == 0 && dx < 0) {
                continue;
            }
            let v = ac.at(dx, dy);
            let is_max = (-1..=1)
                .all(|ey| (-1..=1).all(|ex| (ex == 0 && ey == 0) || ac.at(dx + ex, dy + ey) < v));
            if is_max {
                peaks.push((v, dx, dy));
            }
        }
    }
    peaks.sort_by(|x, y| y.0.total_cmp(&x.0));
    // Noise level of the autocorrelation over the searched lags.
    let mut vals: Vec<f32> = Vec::new();
    for dy in (0..=lm).step_by(3) {
        for dx in (-lm..=lm).step_by(3) {
            let r = ((dx * dx + dy * dy) as f64).sqrt();
            if r >= lag_min && r <= lag_max {
                vals.push(ac.at(dx, dy).abs());
            }
        }
    }
    vals.sort_by(f32::total_cmp);
    let sigma = vals.get(vals.len() / 2).copied().unwrap_or(0.0) * 1.4826;
    let strong = |v: f32, of: f32| v >= 0.4 * of && v >= 3.0 * sigma;
    let mut out: Vec<(f32, Lattice)> = Vec::new();
    for &(_, dx, dy) in peaks.iter().take(6 * max_auto) {
        let c = canonical([dx as f64, dy as f64]);
        let (mut v1, mut s1) = ac.refine(c[0], c[1], 1);
        // Reduce to the fundamental period: a peak may be a multiple of the
        // lattice vector or a diagonal of the lattice.
        loop {
            let mut reduced = false;
            let tries = [
                [v1[0] / 2.0, v1[1] / 2.0],
                [v1[0] / 3.0, v1[1] / 3.0],
                [(v1[0] - v1[1]) / 2.0, (v1[1] + v1[0]) / 2.0],
                [(v1[0] + v1[1]) / 2.0, (v1[1] - v1[0]) / 2.0],
            ];
            for t in tries {
                if norm(t) < lag_min {
                    continue;
                }
                let (v, s) = ac.refine(t[0], t[1], 1);
                if strong(s, s1) {
                    v1 = canonical(v);
                    s1 = s;
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                break;
            }
        }
        let (mut v2, s2) = ac.refine(-v1[1], v1[0], 2);
        for (v, s) in [(&mut v1, s1), (&mut v2, s2)] {
            if 2.0 * norm(*v) <= lag_max {
                let (v_2, s_2) = ac.refine(2.0 * v[0], 2.0 * v[1], 2);
                if strong(s_2, s) {
                    *v = [v_2[0] / 2.0, v_2[1] / 2.0];
                }
            }
        }
        let lat = Lattice {
            v1: [v1[0] * df, v1[1] * df],
            v2: [v2[0] * df, v2[1] * df],
        };
        if out.iter().any(|(_, l)| l.close_to(&lat)) {
            continue;
        }
        out.push((s1 + s2, lat));
        if out.len() >= max_auto {
            break;
        }
    }
    out.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut all: Vec<Lattice> = comb.into_iter().map(|(_, l)| l).collect();
    for (_, l) in out.into_iter().take(max_auto) {
        if !all.iter().any(|a| a.close_to(&l)) {
            all.push(l);
        }
    }
    all
}
