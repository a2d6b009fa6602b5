//! Two-dimensional complex FFTs (row-major) on top of `rustfft`, with the
//! plans and the transpose buffer kept for reuse.

use std::sync::Arc;

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
}
