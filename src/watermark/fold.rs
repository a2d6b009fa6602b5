//! Synchronisation, part 2: fold the whitened image modulo the estimated
//! lattice into one tile (every pixel is splatted bilinearly onto its
//! position within the tile), so all tiles add up and the watermark's SNR
//! grows with the image area.

use super::pattern::TILE;
use super::plane::Plane;
use super::sync::Lattice;

/// The mean of all tiles of `p` under `lat` (TILE x TILE, zero mean), or
/// `None` for a degenerate lattice.
pub fn fold(p: &Plane, lat: &Lattice) -> Option<Vec<f32>> {
    let [ax, ay] = lat.v1;
    let [bx, by] = lat.v2;
    let det = ax * by - bx * ay;
    if !det.is_finite() || det.abs() < 16.0 {
        return None;
    }
    let t = TILE as f64;
    // Tile coordinates of pixel (x, y): u = t * (by*x - bx*y)/det, v = t * (-ay*x + ax*y)/det.
    let (ux, uy) = (t * by / det, -t * bx / det);
    let (vx, vy) = (-t * ay / det, t * ax / det);
    let n = TILE;
    for m in [1, 2, 4] {
        if *lat == Lattice::identity().scaled(1.0 / m as f64) {
            return Some(fold_exact(p, m));
        }
    }
    let mut acc = vec![0f32; n * n];
    let mut wt = vec![0f32; n * n];
    let tf = t as f32;
    for y in 0..p.h {
        let row = &p.data[y * p.w..(y + 1) * p.w];
        let yf = y as f64;
        let mut u = (uy * yf).rem_euclid(t);
        let mut v = (vy * yf).rem_euclid(t);
        let (dux, dvx) = (ux.rem_euclid(t) as f32, vx.rem_euclid(t) as f32);
        let (mut uf, mut vf) = (u as f32, v as f32);
        for (x, &val) in row.iter().enumerate() {
            if x % 64 == 0 {
                // Re-anchor in f64 now and then so f32 drift stays tiny.
                let xf = x as f64;
                u = (ux * xf + uy * yf).rem_euclid(t);
                v = (vx * xf + vy * yf).rem_euclid(t);
                uf = u as f32;
                vf = v as f32;
            }
            // uf, vf are in [0, TILE): truncation is floor (and no libm call).
            let (iu, jv) = (uf as usize, vf as usize);
            let (fx, fy) = (uf - iu as f32, vf - jv as f32);
            let i0 = iu % n;
            let j0 = jv % n;
            let i1 = (i0 + 1) % n;
            let j1 = (j0 + 1) % n;
            let w00 = (1.0 - fx) * (1.0 - fy);
            let w10 = fx * (1.0 - fy);
            let w01 = (1.0 - fx) * fy;
            let w11 = fx * fy;
            acc[j0 * n + i0] += w00 * val;
            acc[j0 * n + i1] += w10 * val;
            acc[j1 * n + i0] += w01 * val;
            acc[j1 * n + i1] += w11 * val;
            wt[j0 * n + i0] += w00;
            wt[j0 * n + i1] += w10;
            wt[j1 * n + i0] += w01;
            wt[j1 * n + i1] += w11;
            uf += dux;
            if uf >= tf {
                uf -= tf;
            }
            vf += dvx;
            if vf >= tf {
                vf -= tf;
            }
        }
    }
    let mut out: Vec<f32> = acc
        .iter()
        .zip(&wt)
        .map(|(a, w)| if *w > 1e-3 { a / w } else { 0.0 })
        .collect();
    let mean = out.iter().sum::<f32>() / out.len() as f32;
    out.iter_mut().for_each(|v| *v -= mean);
    Some(out)
}

/// [`fold`] for the unchanged lattice at `1/m` of its period (`m` divides
/// TILE): every pixel lands exactly on a tile sample, so no interpolation.
/// For `m > 1` the folded period is spread over the tile at every `m`-th
/// sample, zeros between: its spectrum then holds the short period's
/// coefficients at the same indices, repeated beyond them (the pilot and
/// the payload sit below `TILE / (2 m)` for `m <= 2`).
fn fold_exact(p: &Plane, m: usize) -> Vec<f32> {
    let q = TILE / m;
    let mut acc = vec![0f32; q * q];
    let mut cnt = vec![0u32; q * q];
    for y in 0..p.h {
        let row = &p.data[y * p.w..(y + 1) * p.w];
        let base = (y % q) * q;
        for chunk in row.chunks(q) {
            let a = &mut acc[base..base + chunk.len()];
            let c = &mut cnt[base..base + chunk.len()];
            for ((s, k), v) in a.iter_mut().zip(c.iter_mut()).zip(chunk) {
                *s += v;
                *k += 1;
            }
        }
    }
    let n = TILE;
    let mut out = vec![0f32; n * n];
    for j in 0..q {
        for i in 0..q {
            let k = cnt[j * q + i];
            if k > 0 {
                out[(m * j) * n + m * i] = acc[j * q + i] / k as f32;
            }
        }
    }
    let mean = out.iter().sum::<f32>() / out.len() as f32;
    out.iter_mut().for_each(|v| *v -= mean);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` x `h` plane repeating the `n` x `n` tile.
    fn periodic(tile: &[f32], n: usize, w: usize, h: usize) -> Plane {
        let mut p = Plane::zeros(w, h);
        for y in 0..h {
            for x in 0..w {
                p.data[y * w + x] = tile[(y % n) * n + x % n];
            }
        }
        p
    }

    #[test]
    fn folding_a_periodic_plane_recovers_its_tile() {
        let n = TILE;
        let tile: Vec<f32> = (0..n * n).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let p = periodic(&tile, n, 3 * n + 17, 2 * n + 5);
        let f = fold(&p, &Lattice::identity()).unwrap();
        // The exact fast path agrees with the interpolating one.
        let near = Lattice {
            v1: [n as f64 + 1e-9, 0.0],
            v2: [0.0, n as f64],
        };
        let g = fold(&p, &near).unwrap();
        for (a, b) in f.iter().zip(&g) {
            assert!((a - b).abs() < 1e-2);
        }
        let mean = tile.iter().sum::<f32>() / tile.len() as f32;
        for (a, b) in f.iter().zip(&tile) {
            assert!((a - (b - mean)).abs() < 1e-2);
        }
    }

    /// At half the period the exact fold spreads the short tile over every
    /// other sample; its spectrum holds the short tile's coefficients.
    #[test]
    fn folding_at_half_the_period_keeps_the_coefficients() {
        let q = TILE / 2;
        let short: Vec<f32> = (0..q * q).map(|i| ((i * 31) % 11) as f32 - 5.0).collect();
        let p = periodic(&short, q, 3 * q + 7, 2 * q + 9);
        let f = fold(&p, &Lattice::identity().scaled(0.5)).unwrap();
        let mean = short.iter().sum::<f32>() / (4 * q * q) as f32;
        for y in 0..TILE {
            for x in 0..TILE {
                let want = if x % 2 == 0 && y % 2 == 0 {
                    short[(y / 2) * q + x / 2]
                } else {
                    0.0
                };
                assert!((f[y * TILE + x] - (want - mean)).abs() < 1e-3, "{x} {y}");
            }
        }
    }
}
