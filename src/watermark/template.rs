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

use super::fft2::{real_xcorr, smooth_size};
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
        let (fw, fh) = (self.fw, self.fh);
        // Coordinates lie within one period of zero: shifted by a period
        // they are non-negative, so truncation is floor (no libm call), and
        // two conditional subtractions wrap them.
        let (xs, ys) = (x + fw as f64, y + fh as f64);
        if !(xs >= 0.0 && ys >= 0.0) {
            return 0.0;
        }
        let (xt, yt) = (xs as usize, ys as usize);
        let (ax, ay) = ((xs - xt as f64) as f32, (ys - yt as f64) as f32);
        let wrap = |v: usize, n: usize| {
            let v = if v >= n { v - n } else { v };
            if v >= n {
                v - n
            } else {
                v
            }
        };
        let (x0, y0) = (wrap(xt, fw), wrap(yt, fh));
        let x1 = if x0 + 1 == fw { 0 } else { x0 + 1 };
        let y1 = if y0 + 1 == fh { 0 } else { y0 + 1 };
        let (Some(r0), Some(r1)) = (
            self.data.get(y0 * fw..(y0 + 1) * fw),
            self.data.get(y1 * fw..(y1 + 1) * fw),
        ) else {
            return 0.0;
        };
        let (Some(&a), Some(&b), Some(&c), Some(&d)) =
            (r0.get(x0), r0.get(x1), r1.get(x0), r1.get(x1))
        else {
            return 0.0;
        };
        let top = a + (b - a) * ax;
        let bot = c + (d - c) * ax;
        top + (bot - top) * ay
    }

    /// Running maximum over a (2r+1)^2 square (with wrap-around).
    fn dilated(&self, r: usize) -> Spectrum {
        let (w, h) = (self.fw, self.fh);
        // Column index d - r away from x, wrapped (r is far below w).
        let wrapped = |x: usize, d: usize, n: usize| {
            let i = x + d;
            if i < r {
                i + n - r
            } else if i - r >= n {
                i - r - n
            } else {
                i - r
            }
        };
        let mut tmp = vec![0f32; w * h];
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            let dst = &mut tmp[y * w..(y + 1) * w];
            dst.copy_from_slice(row);
            for d in (0..=2 * r).filter(|&d| d != r) {
                if w > 2 * r {
                    // Interior: a shifted slice; the edges wrap.
                    let (lo, hi) = (r, w - r);
                    for (o, s) in dst[lo..hi].iter_mut().zip(&row[lo + d - r..hi + d - r]) {
                        *o = o.max(*s);
                    }
                    for x in (0..lo).chain(hi..w) {
                        dst[x] = dst[x].max(row[wrapped(x, d, w)]);
                    }
                } else {
                    for x in 0..w {
                        dst[x] = dst[x].max(row[(x + w * 2 + d - r) % w]);
                    }
                }
            }
        }
        let mut out = vec![0f32; w * h];
        for y in 0..h {
            for d in 0..=2 * r {
                let src = &tmp[((y + h * 2 + d - r) % h) * w..][..w];
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
    let (all, k_lo, k_hi) = comb();
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

/// The comb's points (cycles per tile, half plane) and their smallest and
/// largest radius.
fn comb() -> (Vec<(f64, f64)>, f64, f64) {
    let all: Vec<(f64, f64)> = annulus()
        .into_iter()
        .map(|(x, y)| (f64::from(x), f64::from(y)))
        .collect();
    let (k_lo, k_hi) = all.iter().fold((f64::MAX, 0.0f64), |(lo, hi), (x, y)| {
        let r = x.hypot(*y);
        (lo.min(r), hi.max(r))
    });
    (all, k_lo, k_hi)
}

/// The strongest evidence of the comb over square lattices with period
/// between `p_min` and `p_max` plane pixels, as a z-score: the best `seeds`
/// hypotheses of the coarse log-polar search, each refined by a short
/// pattern search (to a step of a quarter bin at the comb's edge). The
/// comb is symmetric under quarter turns and mirrors, so this covers every
/// similarity map and its mirror image; for an affine map it sees part of
/// the comb. The first-stage screen's statistic.
/// The search stops early once a hypothesis reaches `enough` (pass
/// `f64::INFINITY` for the true maximum).
pub fn best_z(spec: &Spectrum, p_min: f64, p_max: f64, seeds: usize, enough: f64) -> f64 {
    if !(p_min > 0.0 && p_max > p_min) || spec.fw < 8 || spec.fh < 8 {
        return f64::NEG_INFINITY;
    }
    let (all, k_lo, k_hi) = comb();
    let m = stats(spec, &all);
    let n_bins = spec.fw.max(spec.fh) as f64;
    let mut best = f64::NEG_INFINITY;
    for h in log_polar_peaks(spec, &all, k_lo, k_hi, p_min, p_max, seeds) {
        let r_max = k_hi * n_bins / h.p;
        best = best.max(refine(&m, spec, h, LP_DRHO, 1.0 / (4.0 * r_max)).0);
        if best >= enough {
            break;
        }
    }
    best
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
    let mut lp = vec![0f32; na * nrp];
    let (fw, fh) = (spec.fw as f64, spec.fh as f64);
    let mut sum = 0f64;
    let mut cnt = 0usize;
    let radii: Vec<f64> = (0..nr).map(|i| f_lo * (i as f64 * LP_DRHO).exp()).collect();
    for j in 0..na {
        let (sn, cs) = (j as f64 * dphi).sin_cos();
        for (i, &f) in radii.iter().enumerate() {
            let (fx, fy) = (f * cs, f * sn);
            let mut v = 0f32;
            // The comb repeats every quarter turn, the spectrum every half.
            for (gx, gy) in [(fx, fy), (-fy, fx)] {
                if gx.abs() < 0.5 && gy.abs() < 0.5 {
                    v += dil.bilinear(gx * fw, gy * fh);
                }
            }
            lp[j * nrp + i] = v;
            sum += f64::from(v);
            cnt += 1;
        }
    }
    let mean = (sum / cnt.max(1) as f64) as f32;
    for j in 0..na {
        for c in &mut lp[j * nrp..j * nrp + nr] {
            *c -= mean;
        }
    }
    // The comb on the same grid, at period k_lo / f_lo = p_max.
    let mut tpl = vec![0f32; na * nrp];
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
            tpl[jj * nrp + ii] += w;
        }
    }
    let lp = real_xcorr(&lp, &tpl, nrp, na);
    // Shift t (columns) means period p_max * exp(-t * LP_DRHO).
    let t_max = ((p_max / p_min).ln() / LP_DRHO).floor() as usize;
    let at = |j: usize, t: usize| lp[(j % na) * nrp + t];
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
