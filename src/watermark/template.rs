//! Synchronisation by comb matching: find the tile lattice from the
//! whitened power spectrum of the luma. The tiled mark puts its energy on
//! the reciprocal lattice of the tile, at the known set of coefficients in
//! the mid-frequency annulus; for each hypothesis (period, angle) this
//! module sums the spectrum over that set. Power spectra ignore
//! translation, so crops do not matter, and the sum is a matched filter
//! for the comb: much more sensitive than the blind autocorrelation on
//! small images, which hold only two or three tiles.
//!
//! The search is coarse to fine: a log-polar resampling of the spectrum
//! turns scale and rotation into shifts, so one FFT cross-correlation with
//! the comb scores every (period, angle) on a coarse grid at once; a pattern
//! search of the direct sum on the raw spectrum then refines the best few
//! to sub-bin precision.

use rustfft::num_complex::Complex32;

use super::fft2::{smooth_size, Fft2};
use super::pattern::annulus;
use super::sync::Lattice;

/// Spectrum values are clipped here (in units of the local mean) so one
/// strong content line cannot outvote the comb.
const CLIP: f32 = 6.0;
/// Coarse peaks refined per search.
const REFINED: usize = 6;
/// Log-polar grid of the coarse search: log-radius step and angles per
/// quarter turn.
const LP_DRHO: f64 = 0.008;
const LP_ANGLES: usize = 192;

/// A whitened power spectrum (unshifted, `fh` rows of `fw`).
pub struct Spectrum {
    /// Whitened power, clipped to `CLIP`.
    pub data: Vec<f32>,
    /// Columns.
    pub fw: usize,
    /// Rows.
    pub fh: usize,
}

impl Spectrum {
    fn bilinear(&self, x: f64, y: f64) -> f32 {
        let (fw, fh) = (self.fw as i64, self.fh as i64);
        let (x0, y0) = (x.floor(), y.floor());
        let (ax, ay) = ((x - x0) as f32, (y - y0) as f32);
        let (xi, yi) = (x0 as i64, y0 as i64);
        // Coordinates lie within one period of zero: one conditional wrap.
        let wrap = |v: i64, n: i64| {
            if v < 0 {
                v + n
            } else if v >= n {
                v - n
            } else {
                v
            }
        };
        let at = |dx: i64, dy: i64| {
            let xx = wrap(xi + dx, fw) as usize;
            let yy = wrap(yi + dy, fh) as usize;
            self.data.get(yy * self.fw + xx).copied().unwrap_or(0.0)
        };
        let top = at(0, 0) + (at(1, 0) - at(0, 0)) * ax;
        let bot = at(0, 1) + (at(1, 1) - at(0, 1)) * ax;
        top + (bot - top) * ay
    }

    /// Running maximum over a (2r+1)^2 square (with wrap-around).
    fn dilated(&self, r: usize) -> Spectrum {
        let (w, h) = (self.fw, self.fh);
        let mut tmp = vec![0f32; w * h];
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            for x in 0..w {
                let mut m = f32::NEG_INFINITY;
                for d in 0..=2 * r {
                    m = m.max(row[(x + w + d - r) % w]);
                }
                tmp[y * w + x] = m;
            }
        }
        let mut out = vec![0f32; w * h];
        for y in 0..h {
            for d in 0..=2 * r {
                let src = &tmp[((y + h + d - r) % h) * w..][..w];
                let dst = &mut out[y * w..(y + 1) * w];
                if d == 0 {
                    dst.copy_from_slice(src);
                } else {
                    for (o, s) in dst.iter_mut().zip(src) {
                        *o = o.max(*s);
                    }
                }
            }
        }
        Spectrum {
            data: out,
            fw: w,
            fh: h,
        }
    }
}

/// One lattice hypothesis: square tile of period `p` plane pixels rotated
/// by `theta` radians.
#[derive(Debug, Clone, Copy)]
struct Hyp {
    p: f64,
    theta: f64,
}

impl Hyp {
    fn lattice(&self, df: f64) -> Lattice {
        let (s, c) = self.theta.sin_cos();
        let q = self.p * df;
        Lattice {
            v1: [q * c, q * s],
            v2: [-q * s, q * c],
        }
    }
}

/// The comb's points (half plane, cycles per tile) and the spectrum's
/// statistics over the searched band, for z-scores.
struct Matcher<'a> {
    points: &'a [(f64, f64)],
    mean: f64,
    sd: f64,
}

impl Matcher<'_> {
    /// Sum over the comb at `h`, as a z-score (points past Nyquist skipped).
    fn z(&self, s: &Spectrum, h: Hyp) -> f64 {
        let l = h.lattice(1.0);
        self.z_lattice(s, l.v1, l.v2)
    }

    /// Sum over the comb of the tile repeated on the lattice `v1`, `v2`
    /// (plane pixels, any 2x2 map: aspect changes and shears included), as
    /// a z-score. Tile coefficient `k` (cycles per tile) lands at the plane
    /// frequency `L^-T k`, `L` the matrix of columns `v1`, `v2`.
    fn z_lattice(&self, s: &Spectrum, v1: [f64; 2], v2: [f64; 2]) -> f64 {
        let det = v1[0] * v2[1] - v2[0] * v1[1];
        if det.abs() < 1e-9 {
            return f64::NEG_INFINITY;
        }
        let mut sum = 0f64;
        let mut n = 0usize;
        for &(kx, ky) in self.points {
            let fx = (v2[1] * kx - v1[1] * ky) / det;
            let fy = (v1[0] * ky - v2[0] * kx) / det;
            if fx.abs() >= 0.5 || fy.abs() >= 0.5 {
                continue;
            }
            sum += f64::from(s.bilinear(fx * s.fw as f64, fy * s.fh as f64));
            n += 1;
        }
        if n < 16 {
            return f64::NEG_INFINITY;
        }
        (sum - n as f64 * self.mean) / (self.sd * (n as f64).sqrt()).max(1e-12)
    }
}

/// Up to `max` lattices with period between `p_min` and `p_max` plane
/// pixels, best first, with their comb z-scores. `df` converts plane pixels
/// to working pixels.
pub fn candidates(
    spec: &Spectrum,
    p_min: f64,
    p_max: f64,
    df: f64,
    max: usize,
) -> Vec<(f64, Lattice)> {
    if !(p_min > 0.0 && p_max > p_min) || spec.fw < 8 || spec.fh < 8 {
        return Vec::new();
    }
    let all: Vec<(f64, f64)> = annulus()
        .into_iter()
        .map(|(x, y)| (f64::from(x), f64::from(y)))
        .collect();
    let (k_lo, k_hi) = all.iter().fold((f64::MAX, 0.0f64), |(lo, hi), (x, y)| {
        let r = x.hypot(*y);
        (lo.min(r), hi.max(r))
    });
    let seeds = log_polar_peaks(spec, &all, k_lo, k_hi, p_min, p_max, REFINED);
    let full = stats(spec, &all);
    let n_bins = spec.fw.max(spec.fh) as f64;
    let mut refined: Vec<(f64, Lattice)> = Vec::new();
    let mut min_step = f64::MAX;
    for h in seeds {
        let r_max = k_hi * n_bins / h.p;
        min_step = min_step.min(1.0 / (8.0 * r_max));
        let (z, best) = refine(&full, spec, h, LP_DRHO, 1.0 / (8.0 * r_max));
        if !(p_min..=p_max).contains(&best.p) {
            continue;
        }
        let lat = best.lattice(1.0);
        if refined.iter().any(|(_, l)| l.close_to(&lat)) {
            continue;
        }
        refined.push((z, lat));
    }
    for (z, lat) in affine_hypotheses(&full, spec, &refined, min_step) {
        if !refined.iter().any(|(_, l)| l.same_as(&lat)) {
            refined.push((z, lat));
        }
    }
    for (_, l) in &mut refined {
        *l = l.scaled(df);
    }
    refined.sort_by(|a, b| b.0.total_cmp(&a.0));
    refined.truncate(max);
    refined
}

/// Affine hypotheses kept per search.
const AFFINE: usize = 2;

/// Lattices that are not similarities, from pairs of similarity seeds: the
/// comb of an aspect-changed, sheared or affine-warped tile splits in two,
/// each half matched best by the square lattice of one of its axes, so one
/// axis is taken from each of two seeds (kept when they make an angle of
/// 50-130 degrees), scored by the comb, and the best few refined by a
/// pattern search over the four entries of the map.
fn affine_hypotheses(
    m: &Matcher,
    s: &Spectrum,
    seeds: &[(f64, Lattice)],
    min_step: f64,
) -> Vec<(f64, Lattice)> {
    let mut combos: Vec<(f64, Lattice)> = Vec::new();
    for (i, (_, a)) in seeds.iter().enumerate() {
        for (j, (_, b)) in seeds.iter().enumerate() {
            if i == j {
                continue;
            }
            for w in [b.v1, b.v2] {
                let u = a.v1;
                let cos = (u[0] * w[0] + u[1] * w[1]) / (u[0].hypot(u[1]) * w[0].hypot(w[1]));
                if cos.abs() > 0.64 {
                    continue;
                }
                let lat = Lattice { v1: u, v2: w };
                combos.push((m.z_lattice(s, lat.v1, lat.v2), lat));
            }
        }
    }
    combos.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut out: Vec<(f64, Lattice)> = Vec::new();
    for &(z, lat) in combos.iter().take(2 * AFFINE) {
        let best = refine_affine(m, s, (z, lat), LP_DRHO, min_step);
        if !out.iter().any(|(_, l)| l.same_as(&best.1)) {
            out.push(best);
        }
    }
    out.sort_by(|x, y| y.0.total_cmp(&x.0));
    out.truncate(AFFINE);
    out
}

/// Coordinate pattern search over the four entries of a lattice map, steps
/// relative to its period, halving from `step` down to `min_step`.
fn refine_affine(
    m: &Matcher,
    s: &Spectrum,
    start: (f64, Lattice),
    step: f64,
    min_step: f64,
) -> (f64, Lattice) {
    let mut best = start;
    let period = best.1.scale() * super::pattern::TILE as f64;
    let mut st = step;
    while st >= min_step {
        let mut moved = true;
        let mut guard = 0;
        while moved && guard < 4 {
            moved = false;
            guard += 1;
            for k in 0..4 {
                for sign in [-1.0, 1.0] {
                    let mut t = best.1;
                    let e = if k < 2 {
                        &mut t.v1[k]
                    } else {
                        &mut t.v2[k - 2]
                    };
                    *e += sign * st * period;
                    let z = m.z_lattice(s, t.v1, t.v2);
                    if z > best.0 {
                        best = (z, t);
                        moved = true;
                    }
                }
            }
        }
        st /= 2.0;
    }
    best
}

/// Coarse search: resample the (dilated) spectrum on a log-polar grid,
/// where a change of period shifts the comb along log-radius and a rotation
/// shifts it along angle, and cross-correlate with the comb by FFT. Returns
/// up to `max` well-separated hypotheses, best first.
fn log_polar_peaks(
    spec: &Spectrum,
    points: &[(f64, f64)],
    k_lo: f64,
    k_hi: f64,
    p_min: f64,
    p_max: f64,
    max: usize,
) -> Vec<Hyp> {
    let dil = spec.dilated(1);
    let f_lo = k_lo / p_max;
    let f_hi = (k_hi / p_min).min(0.5 * std::f64::consts::SQRT_2);
    let nr = ((f_hi / f_lo).ln() / LP_DRHO).ceil() as usize + 1;
    let extent = ((k_hi / k_lo).ln() / LP_DRHO).ceil() as usize + 2;
    let (na, nrp) = (LP_ANGLES, smooth_size(nr + extent));
    let dphi = std::f64::consts::FRAC_PI_2 / na as f64;
    // Rows: angle; columns: log radius.
    let mut lp = vec![Complex32::new(0.0, 0.0); na * nrp];
    let (fw, fh) = (spec.fw as f64, spec.fh as f64);
    let mut sum = 0f64;
    let mut cnt = 0usize;
    for j in 0..na {
        let (sn, cs) = (j as f64 * dphi).sin_cos();
        for i in 0..nr {
            let f = f_lo * (i as f64 * LP_DRHO).exp();
            let (fx, fy) = (f * cs, f * sn);
            let mut v = 0f32;
            // The comb repeats every quarter turn, the spectrum every half.
            for (gx, gy) in [(fx, fy), (-fy, fx)] {
                if gx.abs() < 0.5 && gy.abs() < 0.5 {
                    v += dil.bilinear(gx * fw, gy * fh);
                }
            }
            lp[j * nrp + i].re = v;
            sum += f64::from(v);
            cnt += 1;
        }
    }
    let mean = (sum / cnt.max(1) as f64) as f32;
    for j in 0..na {
        for c in &mut lp[j * nrp..j * nrp + nr] {
            c.re -= mean;
        }
    }
    // The comb on the same grid, at period k_lo / f_lo = p_max.
    let mut tpl = vec![Complex32::new(0.0, 0.0); na * nrp];
    for &(kx, ky) in points {
        // Fold each point into the first quadrant (quarter-turn symmetry).
        let mut a = ky.atan2(kx).rem_euclid(std::f64::consts::FRAC_PI_2);
        if a >= std::f64::consts::FRAC_PI_2 {
            a = 0.0;
        }
        let r = (kx.hypot(ky) / k_lo).ln() / LP_DRHO;
        let u = a / dphi;
        let (i0, j0) = (r.floor(), u.floor());
        let (ar, au) = ((r - i0) as f32, (u - j0) as f32);
        let (i0, j0) = (i0 as usize, j0 as usize);
        for (di, dj, w) in [
            (0, 0, (1.0 - ar) * (1.0 - au)),
            (1, 0, ar * (1.0 - au)),
            (0, 1, (1.0 - ar) * au),
            (1, 1, ar * au),
        ] {
            let (ii, jj) = ((i0 + di) % nrp, (j0 + dj) % na);
            tpl[jj * nrp + ii].re += w;
        }
    }
    let fft = Fft2::new(nrp, na);
    fft.forward(&mut lp);
    fft.forward(&mut tpl);
    for (a, b) in lp.iter_mut().zip(&tpl) {
        *a *= b.conj();
    }
    fft.inverse(&mut lp);
    // Shift t (columns) means period p_max * exp(-t * LP_DRHO).
    let t_max = ((p_max / p_min).ln() / LP_DRHO).floor() as usize;
    let at = |j: usize, t: usize| lp[(j % na) * nrp + t].re;
    let mut peaks: Vec<(f32, usize, usize)> = Vec::new();
    for j in 0..na {
        for t in 0..=t_max.min(nrp - 1) {
            let v = at(j, t);
            let jm = (j + na - 1) % na;
            let is_max = (t == 0 || at(j, t - 1) < v)
                && (t + 1 >= nrp || at(j, t + 1) <= v)
                && at(jm, t) < v
                && at(j + 1, t) <= v;
            if is_max {
                peaks.push((v, j, t));
            }
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<Hyp> = Vec::new();
    for &(_, j, t) in &peaks {
        let mut theta = j as f64 * dphi;
        if theta > std::f64::consts::FRAC_PI_4 {
            theta -= std::f64::consts::FRAC_PI_2;
        }
        let h = Hyp {
            p: p_max * (-(t as f64) * LP_DRHO).exp(),
            theta,
        };
        if out.iter().any(|o| close(o, &h)) {
            continue;
        }
        out.push(h);
        if out.len() >= max {
            break;
        }
    }
    out
}

fn close(a: &Hyp, b: &Hyp) -> bool {
    (a.p / b.p - 1.0).abs() < 0.04 && (a.theta - b.theta).abs() < 0.03
}

/// Mean and standard deviation of the spectrum over the frequencies the
/// comb can reach.
fn stats<'a>(s: &Spectrum, points: &'a [(f64, f64)]) -> Matcher<'a> {
    let mut acc = (0f64, 0f64, 0usize);
    for y in (0..s.fh).step_by(2) {
        let fy = y.min(s.fh - y) as f64 / s.fh as f64;
        for x in (0..s.fw).step_by(2) {
            let fx = x.min(s.fw - x) as f64 / s.fw as f64;
            if fx.hypot(fy) < 0.02 {
                continue;
            }
            let v = f64::from(s.data[y * s.fw + x]);
            acc.0 += v;
            acc.1 += v * v;
            acc.2 += 1;
        }
    }
    let n = acc.2.max(1) as f64;
    let mean = acc.0 / n;
    let sd = (acc.1 / n - mean * mean).max(1e-12).sqrt();
    Matcher { points, mean, sd }
}

/// Pattern search around `h`: a 3x3 neighbourhood in (log period, angle)
/// with the step halving from `step` down to `min_step`.
fn refine(m: &Matcher, s: &Spectrum, h: Hyp, step: f64, min_step: f64) -> (f64, Hyp) {
    let mut best = (m.z(s, h), h);
    let mut st = step;
    while st >= min_step {
        let mut moved = true;
        let mut guard = 0;
        while moved && guard < 3 {
            moved = false;
            guard += 1;
            let c = best.1;
            for dp in -1..=1 {
                for da in -1..=1 {
                    if dp == 0 && da == 0 {
                        continue;
                    }
                    let t = Hyp {
                        p: c.p * (1.0 + dp as f64 * st),
                        theta: c.theta + da as f64 * st,
                    };
                    let z = m.z(s, t);
                    if z > best.0 {
                        best = (z, t);
                        moved = true;
                    }
                }
            }
        }
        st /= 2.0;
    }
    best
}

/// Clip and package a whitened power spectrum.
pub fn spectrum(mut data: Vec<f32>, fw: usize, fh: usize) -> Spectrum {
    data.iter_mut().for_each(|v| *v = v.min(CLIP));
    Spectrum { data, fw, fh }
}

#[cfg(test)]
mod tests {
    use super::super::attacks::Attack;
    use super::super::plane::{luma_downsampled, whiten};
    use super::super::{embed, sync, working_size, EmbedOptions};

    #[test]
    fn finds_the_lattice_of_a_rescaled_rotated_mark() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/watermark/kodim23-crop.png"
        );
        let img = image::open(path).unwrap().crop_imm(0, 0, 320, 300);
        let marked = embed::embed(&img, 42, &EmbedOptions::default()).unwrap();
        let scaled = Attack::Resize(1.37).apply(&marked, 0).unwrap();
        let att = Attack::Rotate(3.0).apply(&scaled, 0).unwrap();
        let (ww, wh) = working_size(att.width() as usize, att.height() as usize);
        let white = whiten(&luma_downsampled(&att, ww, wh));
        let found = sync::candidates(&white, 0, 4);
        let best = found.first().expect("a candidate");
        assert!((best.scale() - 1.37).abs() < 0.015, "{best:?}");
        assert!((best.rotation_deg().abs() - 3.0).abs() < 0.3, "{best:?}");
    }
}
