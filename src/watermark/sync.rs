//! Synchronisation, part 1: estimate the lattice on which the tile repeats
//! (its two period vectors, which give scale and rotation) from the peaks of
//! the autocorrelation of the whitened luma. The spectrum is locally
//! whitened before the inverse transform so the periodic comb of the
//! watermark stands out of the broadband image content.

use super::autocorr::{autocorrelate, halving, lag_range, Autocorr};
use super::pattern::TILE;
use super::plane::{shrink, Plane};
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

    /// Whether the lattice has the opposite handedness of the embedded one
    /// (folding with it mirrors the tile).
    pub fn mirrored(&self) -> bool {
        self.v1[0] * self.v2[1] - self.v1[1] * self.v2[0] < 0.0
    }

    /// Whether `o` spans the same lattice (each of its vectors within 3% of
    /// one of this lattice's axes, either sign).
    pub fn same_as(&self, o: &Lattice) -> bool {
        let near = |a: [f64; 2], b: [f64; 2]| {
            [1.0, -1.0]
                .iter()
                .any(|s| (s * a[0] - b[0]).hypot(s * a[1] - b[1]) < 0.03 * norm(a))
        };
        [o.v1, o.v2]
            .iter()
            .all(|&w| near(self.v1, w) || near(self.v2, w))
    }

    /// Whether `o`'s first vector is within 3% of one of this lattice's
    /// axes (either sign): the same lattice, up to the tile's orientation.
    pub fn close_to(&self, o: &Lattice) -> bool {
        [self.v1, self.v2].iter().any(|v| {
            [1.0, -1.0].iter().any(|s| {
                let d = (s * v[0] - o.v1[0]).hypot(s * v[1] - o.v1[1]);
                d < 0.03 * norm(*v)
            })
        })
    }
}

fn norm(v: [f64; 2]) -> f64 {
    v[0].hypot(v[1])
}

/// A lattice vector or its opposite (the same lattice), whichever points
/// into the right half plane. Unlike a quarter turn, negation keeps the
/// vector a lattice vector when the lattice is not square (an aspect-ratio
/// change or a shear); the fold's orientation search absorbs the rest.
fn canonical(v: [f64; 2]) -> [f64; 2] {
    if v[0] < 0.0 || (v[0] == 0.0 && v[1] < 0.0) {
        [-v[0], -v[1]]
    } else {
        v
    }
}

fn dot(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

/// Lagrange-Gauss reduction: the two shortest independent vectors of the
/// lattice spanned by `a` and `b`. Folding needs the lattice's own axes;
/// any other basis (e.g. an axis and a diagonal) folds a sheared tile.
fn reduce(a: [f64; 2], b: [f64; 2]) -> ([f64; 2], [f64; 2]) {
    let (mut a, mut b) = (a, b);
    if dot(a, a) > dot(b, b) {
        std::mem::swap(&mut a, &mut b);
    }
    for _ in 0..8 {
        let m = (dot(a, b) / dot(a, a).max(1e-9)).round();
        b = [b[0] - m * a[0], b[1] - m * a[1]];
        if dot(b, b) >= dot(a, a) {
            break;
        }
        std::mem::swap(&mut a, &mut b);
    }
    (a, b)
}

/// Peaks paired into candidate lattices.
const PAIR_PEAKS: usize = 16;

/// The finest lattice containing `a` and `b` that the autocorrelation
/// supports: the reduced basis of the pair, replaced by a finer one while a
/// half or a third of a basis vector, or half of their sum or difference,
/// is itself a strong peak. Then each vector is refined at twice its
/// length when that peak is strong (twice the precision). Returns the
/// basis and its score (the autocorrelation at the basis vectors), or
/// `None` for a lattice shorter than `lag_min`.
fn finest(
    ac: &Autocorr,
    a: [f64; 2],
    b: [f64; 2],
    lag_min: f64,
    strong: &dyn Fn(f32, f32) -> bool,
) -> Option<([f64; 2], [f64; 2], f32)> {
    let (mut v1, mut v2) = reduce(a, b);
    let value = |v: [f64; 2]| ac.refine(v[0], v[1], 1);
    let (mut s1, mut s2) = (value(v1).1, value(v2).1);
    for _ in 0..4 {
        let of = s1.min(s2);
        let tries = [
            ([(v1[0] + v2[0]) / 2.0, (v1[1] + v2[1]) / 2.0], 0),
            ([(v1[0] - v2[0]) / 2.0, (v1[1] - v2[1]) / 2.0], 0),
            ([v1[0] / 2.0, v1[1] / 2.0], 1),
            ([v2[0] / 2.0, v2[1] / 2.0], 2),
            ([v1[0] / 3.0, v1[1] / 3.0], 1),
            ([v2[0] / 3.0, v2[1] / 3.0], 2),
        ];
        let found = tries.iter().find_map(|&(t, which)| {
            if norm(t) < lag_min {
                return None;
            }
            let (v, s) = value(t);
            strong(s, of).then_some((v, s, which))
        });
        let Some((v, s, which)) = found else {
            break;
        };
        // The finer vector replaces the basis vector it divides (for a
        // half-diagonal, either: the reduction sorts it out).
        (v1, v2) = match which {
            2 => reduce(v1, v),
            _ => reduce(v, v2),
        };
        s1 = value(v1).1;
        s2 = value(v2).1;
        if which == 0 {
            s1 = s1.max(s);
        }
    }
    if norm(v1).min(norm(v2)) < lag_min {
        return None;
    }
    for (v, s) in [(&mut v1, s1), (&mut v2, s2)] {
        let (v_2, s_2) = ac.refine(2.0 * v[0], 2.0 * v[1], 2);
        if strong(s_2, s) {
            *v = [v_2[0] / 2.0, v_2[1] / 2.0];
        }
    }
    Some((canonical(v1), canonical(v2), s1 + s2))
}

/// Candidate lattices, best first: up to `max_comb` from the comb matcher
/// ([`template`]), then up to `max_auto` from the autocorrelation peaks
/// (which also cover rotations beyond the matcher's range).
pub fn candidates(p: &Plane, max_auto: usize, max_comb: usize) -> Vec<Lattice> {
    let d = halving(p.w, p.h);
    let a = if d == 2 { shrink(p, 2) } else { p.clone() };
    let df = d as f64;
    let Some((lag_min, lag_max)) = lag_range(a.w, a.h, df) else {
        return Vec::new();
    };
    let pad = lag_max.ceil() as usize + 2;
    let an = autocorrelate(&a, df, pad);
    let comb = template::candidates(
        &template::spectrum(an.power, an.fw, an.fh),
        lag_min,
        lag_max,
        df,
        max_comb,
    );
    let ac = an.ac;
    let peaks = ac.peaks(lag_min, lag_max);
    let sigma = ac.sigma(lag_min, lag_max);
    let strong = |v: f32, of: f32| v >= 0.4 * of && v >= 3.0 * sigma;
    // Lattices from pairs of peaks: each of the strongest peaks is paired
    // with every other strong peak that is not collinear with it; the pair
    // is reduced to the lattice's shortest basis and refined down to the
    // finest lattice the autocorrelation supports (a peak may be a
    // multiple or a diagonal of the true cell). Nothing assumes a square
    // cell, so aspect-ratio changes and shears are found like rotations.
    let refined: Vec<([f64; 2], f32)> = peaks
        .iter()
        .take(PAIR_PEAKS)
        .map(|&(_, dx, dy)| ac.refine(dx as f64, dy as f64, 1))
        .collect();
    let mut out: Vec<(f32, Lattice)> = Vec::new();
    for &(a, sa) in refined.iter().take(6 * max_auto) {
        for &(b, sb) in &refined {
            let cross = a[0] * b[1] - a[1] * b[0];
            if cross.abs() < 0.2 * norm(a) * norm(b) || !strong(sb, sa) {
                continue;
            }
            let Some((v1, v2, score)) = finest(&ac, a, b, lag_min, &strong) else {
                continue;
            };
            let lat = Lattice {
                v1: [v1[0] * df, v1[1] * df],
                v2: [v2[0] * df, v2[1] * df],
            };
            match out.iter_mut().find(|(_, l)| l.same_as(&lat)) {
                Some(e) if e.0 >= score => {}
                Some(e) => *e = (score, lat),
                None => out.push((score, lat)),
            }
        }
    }
    out.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut all: Vec<Lattice> = comb.into_iter().map(|(_, l)| l).collect();
    for (_, l) in out.into_iter().take(max_auto) {
        if !all.iter().any(|a| a.same_as(&l)) {
            all.push(l);
        }
    }
    all
}
