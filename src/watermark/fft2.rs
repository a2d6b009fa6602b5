//! Two-dimensional complex FFTs (row-major) on top of `rustfft`, with the
//! plans and the transpose buffer kept for reuse.

use std::sync::Arc;

use realfft::RealFftPlanner;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Forward and inverse 2-D FFTs of one size. The inverse is unnormalised.
pub struct Fft2 {
    w: usize,
    h: usize,
    row_fwd: Arc<dyn Fft<f32>>,
    row_inv: Arc<dyn Fft<f32>>,
    col_fwd: Arc<dyn Fft<f32>>,
    col_inv: Arc<dyn Fft<f32>>,
}

impl Fft2 {
    /// Plans for a `w` x `h` array (w columns, h rows).
    pub fn new(w: usize, h: usize) -> Self {
        let mut planner = FftPlanner::<f32>::new();
        Fft2 {
            w,
            h,
            row_fwd: planner.plan_fft_forward(w),
            row_inv: planner.plan_fft_inverse(w),
            col_fwd: planner.plan_fft_forward(h),
            col_inv: planner.plan_fft_inverse(h),
        }
    }

    /// In-place forward transform of `data` (`h` rows of `w`).
    pub fn forward(&self, data: &mut [Complex32]) {
        self.run(data, &self.row_fwd, &self.col_fwd);
    }

    /// In-place unnormalised inverse transform.
    pub fn inverse(&self, data: &mut [Complex32]) {
        self.run(data, &self.row_inv, &self.col_inv);
    }

    fn run(&self, data: &mut [Complex32], row: &Arc<dyn Fft<f32>>, col: &Arc<dyn Fft<f32>>) {
        let (w, h) = (self.w, self.h);
        if data.len() != w * h || w == 0 || h == 0 {
            return;
        }
        row.process(data);
        let mut t = vec![Complex32::new(0.0, 0.0); w * h];
        transpose(data, &mut t, w, h);
        col.process(&mut t);
        transpose(&t, data, h, w);
    }
}

/// The power spectrum (`|X|^2`, `fh` rows of `fw`) of the real `w` x `h`
/// array `data` zero-padded to `fw` x `fh` (each at least the array's
/// side). Real-input row transforms of the `h` rows that are not padding,
/// then column transforms of the non-negative half of the frequencies; the
/// other half is its mirror image (`|X(-k)| = |X(k)|` for real input).
/// About a third of the work of the complex transform.
pub fn real_power(data: &[f32], w: usize, h: usize, fw: usize, fh: usize) -> Vec<f32> {
    let mut out = vec![0f32; fw * fh];
    let Some(cols) = real_half_spectrum(data, w, h, fw, fh) else {
        return out;
    };
    for (x, col) in cols.chunks_exact(fh).enumerate() {
        let mx = (fw - x) % fw;
        for (y, c) in col.iter().enumerate() {
            let v = c.norm_sqr();
            out[y * fw + x] = v;
            out[((fh - y) % fh) * fw + mx] = v;
        }
    }
    out
}

/// The non-negative half of the 2-D spectrum of the real `w` x `h` array
/// `data` zero-padded to `fw` x `fh`, column-major: column `x` (of
/// `fw / 2 + 1`) at `[x * fh..(x + 1) * fh]`. Padding rows transform to
/// zero, so only the `h` data rows are transformed. `None` for sizes that
/// do not fit.
fn real_half_spectrum(
    data: &[f32],
    w: usize,
    h: usize,
    fw: usize,
    fh: usize,
) -> Option<Vec<Complex32>> {
    if w == 0 || h == 0 || fw < w || fh < h || data.len() < w * h {
        return None;
    }
    let r2c = RealFftPlanner::<f32>::new().plan_fft_forward(fw);
    let half = fw / 2 + 1;
    let mut row = r2c.make_input_vec();
    let mut spec = r2c.make_output_vec();
    let mut scratch = r2c.make_scratch_vec();
    let mut cols = vec![Complex32::new(0.0, 0.0); half * fh];
    for (y, src) in data.chunks_exact(w).take(h).enumerate() {
        row[..w].copy_from_slice(src);
        row[w..].iter_mut().for_each(|v| *v = 0.0);
        r2c.process_with_scratch(&mut row, &mut spec, &mut scratch)
            .ok()?;
        for (x, c) in spec.iter().enumerate() {
            cols[x * fh + y] = *c;
        }
    }
    FftPlanner::<f32>::new()
        .plan_fft_forward(fh)
        .process(&mut cols);
    Some(cols)
}

/// Cyclic cross-correlation of two real `w` x `h` arrays (row-major):
/// `out[k] = sum over x of a[x + k] * b[x]`, indices wrapping, by
/// real-input FFTs (half the work of complex ones).
pub fn real_xcorr(a: &[f32], b: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; w * h];
    let (Some(mut fa), Some(fb)) = (
        real_half_spectrum(a, w, h, w, h),
        real_half_spectrum(b, w, h, w, h),
    ) else {
        return out;
    };
    for (x, y) in fa.iter_mut().zip(&fb) {
        *x *= y.conj();
    }
    FftPlanner::<f32>::new()
        .plan_fft_inverse(h)
        .process(&mut fa);
    let c2r = RealFftPlanner::<f32>::new().plan_fft_inverse(w);
    let half = w / 2 + 1;
    let mut spec = c2r.make_input_vec();
    let mut row = c2r.make_output_vec();
    let mut scratch = c2r.make_scratch_vec();
    for (y, dst) in out.chunks_exact_mut(w).enumerate() {
        for (x, c) in spec.iter_mut().enumerate().take(half) {
            *c = fa[x * h + y];
        }
        // A real signal's spectrum has real DC and Nyquist terms; rounding
        // leaves a trace of imaginary part, which the inverse refuses.
        spec[0].im = 0.0;
        if w.is_multiple_of(2) {
            spec[half - 1].im = 0.0;
        }
        if c2r
            .process_with_scratch(&mut spec, &mut row, &mut scratch)
            .is_err()
        {
            return vec![0f32; w * h];
        }
        dst.copy_from_slice(&row);
    }
    out
}

/// Transpose `src` (h rows of w) into `dst` (w rows of h), in cache blocks.
fn transpose(src: &[Complex32], dst: &mut [Complex32], w: usize, h: usize) {
    const B: usize = 32;
    for y0 in (0..h).step_by(B) {
        for x0 in (0..w).step_by(B) {
            for y in y0..(y0 + B).min(h) {
                for x in x0..(x0 + B).min(w) {
                    dst[x * h + y] = src[y * w + x];
                }
            }
        }
    }
}

/// The smallest integer >= `n` whose only prime factors are 2, 3 and 5.
pub fn smooth_size(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut k = m;
        for p in [2, 3, 5] {
            while k.is_multiple_of(p) {
                k /= p;
            }
        }
        if k == 1 {
            return m;
        }
        m += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_impulse() {
        let (w, h) = (12, 10);
        let f = Fft2::new(w, h);
        let mut d: Vec<Complex32> = (0..w * h).map(|i| Complex32::new(i as f32, 0.0)).collect();
        let orig = d.clone();
        f.forward(&mut d);
        f.inverse(&mut d);
        for (a, b) in d.iter().zip(&orig) {
            assert!((a.re / (w * h) as f32 - b.re).abs() < 1e-3);
        }
        assert_eq!(smooth_size(97), 100);
        assert_eq!(smooth_size(128), 128);
    }

    /// A small deterministic real array.
    fn ramp(n: usize, k: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * k + 3) % 17) as f32 - 8.0).collect()
    }

    /// The real-input transforms agree with the complex one.
    #[test]
    fn real_transforms_match_the_complex_one() {
        let (w, h, fw, fh) = (9, 7, 15, 12);
        let a = ramp(w * h, 5);
        let mut full = vec![Complex32::new(0.0, 0.0); fw * fh];
        for y in 0..h {
            for x in 0..w {
                full[y * fw + x].re = a[y * w + x];
            }
        }
        Fft2::new(fw, fh).forward(&mut full);
        let p = real_power(&a, w, h, fw, fh);
        for (c, v) in full.iter().zip(&p) {
            assert!(
                (c.norm_sqr() - v).abs() <= 1e-3 * (1.0 + v),
                "{} {v}",
                c.norm_sqr()
            );
        }
        // Cross-correlation, odd and even widths, against the direct sum.
        for (w, h) in [(10, 6), (9, 5)] {
            let (a, b) = (ramp(w * h, 7), ramp(w * h, 11));
            let c = real_xcorr(&a, &b, w, h);
            for ky in 0..h {
                for kx in 0..w {
                    let mut sum = 0f32;
                    for y in 0..h {
                        for x in 0..w {
                            sum += a[((y + ky) % h) * w + (x + kx) % w] * b[y * w + x];
                        }
                    }
                    let got = c[ky * w + kx] / (w * h) as f32;
                    assert!((got - sum).abs() < 1e-2 * (1.0 + sum.abs()), "{got} {sum}");
                }
            }
        }
    }
}
