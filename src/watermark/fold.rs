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
            let (i0, fx) = (uf.floor(), uf - uf.floor());
            let (j0, fy) = (vf.floor(), vf - vf.floor());
            let i0 = (i0 as usize) % n;
            let j0 = (j0 as usize) % n;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_a_periodic_plane_recovers_its_tile() {
        let n = TILE;
        let tile: Vec<f32> = (0..n * n).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let (w, h) = (3 * n + 17, 2 * n + 5);
        let mut p = Plane::zeros(w, h);
        for y in 0..h {
            for x in 0..w {
                p.data[y * w + x] = tile[(y % n) * n + x % n];
            }
        }
        let f = fold(&p, &Lattice::identity()).unwrap();
        let mean = tile.iter().sum::<f32>() / tile.len() as f32;
        for (a, b) in f.iter().zip(&tile) {
            assert!((a - (b - mean)).abs() < 1e-2);
        }
    }
}
