//! The autocorrelation of a whitened luma plane, whitened once more in the
//! frequency domain (each power sample divided by its neighbourhood's mean)
//! so the periodic comb of a tiled watermark stands out of broadband image
//! content as peaks at the tile lattice's vectors. The lattice search
//! ([`super::sync`]) uses both; the first-stage screen ([`super::screen`])
//! uses the whitened spectrum, and the same plane size and period range.

use rustfft::num_complex::Complex32;

use super::fft2::{real_power, smooth_size, Fft2};
use super::plane::{box_mean, Plane};

/// Shortest and longest lag searched, working pixels (tile periods between
/// about 0.35x and 2.6x of the embedded one).
pub const LAG_MIN: f64 = 44.0;
/// See [`LAG_MIN`].
pub const LAG_MAX: f64 = 330.0;

/// Working pixels per sample of the plane searched for a `w` x `h` working
/// plane: halved from a short side of 520 pixels (the mark's highest
/// frequency stays under the halved plane's Nyquist limit).
pub fn halving(w: usize, h: usize) -> usize {
    if w.min(h) >= 520 {
        2
    } else {
        1
    }
}

/// The shortest and longest period searched (in samples) on a `w` x `h`
/// plane of `df` working pixels per sample: [`LAG_MIN`] to [`LAG_MAX`],
/// capped at 0.7 of the short side; `None` when that leaves no range.
pub fn lag_range(w: usize, h: usize, df: f64) -> Option<(f64, f64)> {
    let lag_max = (LAG_MAX / df).min(0.7 * w.min(h) as f64);
    let lag_min = LAG_MIN / df;
    (lag_max > lag_min + 2.0).then_some((lag_min, lag_max))
}

/// Autocorrelation samples over a `fw` x `fh` grid of cyclic lags,
/// normalised by the overlap of the plane with its shifted copy.
pub struct Autocorr {
    a: Vec<f32>,
    fw: usize,
    fh: usize,
}

/// What [`autocorrelate`] computes.
pub struct Analysis {
    /// The autocorrelation.
    pub ac: Autocorr,
    /// The frequency-whitened power spectrum it came from (`fw` x `fh`,
    /// lowest frequencies zeroed), for the comb matcher.
    pub power: Vec<f32>,
    /// Spectrum width.
    pub fw: usize,
    /// Spectrum height.
    pub fh: usize,
}

impl Autocorr {
    /// The sample at lag (dx, dy), cyclically.
    pub fn at(&self, dx: i64, dy: i64) -> f32 {
        let x = dx.rem_euclid(self.fw as i64) as usize;
        let y = dy.rem_euclid(self.fh as i64) as usize;
        self.a[y * self.fw + x]
    }

    /// The strongest sample within `r` of (x, y), refined to sub-pixel
    /// precision by parabolic fits.
    pub fn refine(&self, x: f64, y: f64, r: i64) -> ([f64; 2], f32) {
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

    /// Local maxima (3x3) over the half plane of lags whose length is in
    /// [`lag_min`, `lag_max`], strongest first, as (value, dx, dy).
    pub fn peaks(&self, lag_min: f64, lag_max: f64) -> Vec<(f32, i64, i64)> {
        let lm = lag_max.floor() as i64;
        let mut peaks: Vec<(f32, i64, i64)> = Vec::new();
        for dy in 0..=lm {
            for dx in -lm..=lm {
                let r = ((dx * dx + dy * dy) as f64).sqrt();
                if r < lag_min || r > lag_max || (dy == 0 && dx < 0) {
                    continue;
                }
                let v = self.at(dx, dy);
                let is_max = (-1..=1).all(|ey| {
                    (-1..=1).all(|ex| (ex == 0 && ey == 0) || self.at(dx + ex, dy + ey) < v)
                });
                if is_max {
                    peaks.push((v, dx, dy));
                }
            }
        }
        peaks.sort_by(|x, y| y.0.total_cmp(&x.0));
        peaks
    }

    /// Noise level of the autocorrelation over the lags in
    /// [`lag_min`, `lag_max`]: the median absolute value of every third
    /// lag, scaled to a Gaussian standard deviation.
    pub fn sigma(&self, lag_min: f64, lag_max: f64) -> f32 {
        let lm = lag_max.floor() as i64;
        let mut vals: Vec<f32> = Vec::new();
        for dy in (0..=lm).step_by(3) {
            for dx in (-lm..=lm).step_by(3) {
                let r = ((dx * dx + dy * dy) as f64).sqrt();
                if r >= lag_min && r <= lag_max {
                    vals.push(self.at(dx, dy).abs());
                }
            }
        }
        vals.sort_by(f32::total_cmp);
        vals.get(vals.len() / 2).copied().unwrap_or(0.0) * 1.4826
    }
}

/// The power spectrum of `a` (mean removed, zero-padded by at least `pad`
/// to an FFT-friendly size), each sample divided by the mean of its 7x7
/// neighbourhood; frequencies below 0.02 cycles per working pixel (`df`
/// working pixels per sample of `a`) are zeroed. Returns the spectrum
/// (`fh` rows of `fw`), `fw` and `fh`.
pub fn whitened_power(a: &Plane, df: f64, pad: usize) -> (Vec<f32>, usize, usize) {
    let (fw, fh) = (smooth_size(a.w + pad), smooth_size(a.h + pad));
    let mean = a.data.iter().sum::<f32>() / a.data.len().max(1) as f32;
    let centred: Vec<f32> = a.data.iter().map(|v| v - mean).collect();
    let power = Plane {
        w: fw,
        h: fh,
        data: real_power(&centred, a.w, a.h, fw, fh),
    };
    let smooth = box_mean(&power, 3);
    let floor = smooth.data.iter().sum::<f32>() / smooth.data.len().max(1) as f32 * 1e-3 + 1e-20;
    let mut out = power.data;
    for y in 0..fh {
        let fy = (y.min(fh - y)) as f32 / fh as f32;
        for x in 0..fw {
            let fx = (x.min(fw - x)) as f32 / fw as f32;
            let i = y * fw + x;
            let low = (fx * fx + fy * fy).sqrt() * df as f32 <= 0.02;
            out[i] = if low {
                0.0
            } else {
                out[i] / (smooth.data[i] + floor)
            };
        }
    }
    (out, fw, fh)
}

/// The autocorrelation of `a` for lags up to `pad` (zero padding of at
/// least `pad` keeps longer cyclic lags from wrapping onto them): the
/// inverse transform of [`whitened_power`].
pub fn autocorrelate(a: &Plane, df: f64, pad: usize) -> Analysis {
    let (white, fw, fh) = whitened_power(a, df, pad);
    let mut buf: Vec<Complex32> = white.iter().map(|&v| Complex32::new(v, 0.0)).collect();
    Fft2::new(fw, fh).inverse(&mut buf);
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
    Analysis {
        ac,
        power: white,
        fw,
        fh,
    }
}
