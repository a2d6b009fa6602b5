//! Helpers shared by the integration tests: the binary (honouring
//! `HALLMARK_BIN`), the repository root, generated test images and exit
//! code checks. Each test crate uses a subset.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hallmark::watermark::prng::Prng;
use image::{DynamicImage, RgbImage};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run in `cwd`. HALLMARK_BIN runs the tests against a given
/// binary (useful when several checkouts share one target folder).
pub fn hallmark_in(cwd: &Path) -> Command {
    let bin = std::env::var_os("HALLMARK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hallmark")));
    let mut c = Command::new(bin);
    c.current_dir(cwd);
    c
}

/// Assert a finished command exited with `code`, showing its stderr if not.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A textured test image (value noise over several octaves plus edges).
pub fn textured(w: u32, h: u32, seed: u64) -> DynamicImage {
    let mut rng = Prng::new(seed, 1);
    let grids: Vec<(u32, Vec<f32>)> = [64u32, 16, 4]
        .iter()
        .map(|&c| {
            (
                c,
                (0..((w / c + 2) * (h / c + 2)))
                    .map(|_| rng.next_f64() as f32)
                    .collect(),
            )
        })
        .collect();
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let mut v: f32 = 0.0;
        for (amp, (c, g)) in [110.0f32, 60.0, 30.0].iter().zip(&grids) {
            let gw = w / c + 2;
            let (fx, fy) = (x as f32 / *c as f32, y as f32 / *c as f32);
            let (ix, iy) = (fx as u32, fy as u32);
            let (tx, ty) = (fx - ix as f32, fy - iy as f32);
            let at = |i: u32, j: u32| g[(j * gw + i) as usize];
            let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * tx;
            let bot = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * tx;
            v += amp * (top + (bot - top) * ty);
        }
        let v = (v - 40.0).clamp(0.0, 255.0) as u8;
        image::Rgb([v, v.saturating_add(10), v / 2 + 60])
    }))
}
