//! Benchmark (not a test): time `media::decode` against the dwtDct detector
//! on the given image files, or on every image under the given folders.
//!
//! `cargo run --example dwtdct_bench -- ../shared/data/cls`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

use std::time::Instant;

use hallmark::media::{decode, read_file, Limits};
use hallmark::watermark::dwtdct;

fn main() {
    let limits = Limits::default();
    let (mut files, mut pixels, mut t_decode, mut t_detect, mut found) = (0, 0u64, 0.0, 0.0, 0);
    for arg in std::env::args().skip(1) {
        for entry in walkdir::WalkDir::new(arg).sort_by_file_name() {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(bytes) = read_file(entry.path(), &limits) else {
                continue;
            };
            let t = Instant::now();
            let Ok(img) = decode(&bytes, &limits) else {
                continue;
            };
            t_decode += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let mark = dwtdct::detect(&img).unwrap();
            t_detect += t.elapsed().as_secs_f64();
            files += 1;
            pixels += u64::from(img.width()) * u64::from(img.height());
            if let Some(m) = mark {
                found += 1;
                println!(
                    "{}: {} {}/{} p={:.1e}",
                    entry.path().display(),
                    m.generator,
                    m.bits_agree,
                    m.bits_total,
                    m.p_value
                );
            }
        }
    }
    let mp = pixels as f64 / 1e6;
    println!(
        "{files} images, {mp:.1} MP, {found} detections; decode {:.2} s ({:.1} ns/px), dwtDct {:.2} s ({:.1} ns/px, {:.0}% of decode)",
        t_decode,
        t_decode * 1e9 / pixels.max(1) as f64,
        t_detect,
        t_detect * 1e9 / pixels.max(1) as f64,
        100.0 * t_detect / t_decode.max(1e-9)
    );
}
