//! Speed benchmark for hallmark's watermark: embed and detect on synthetic
//! textured images of 1920x1080 and 12 MP (and optionally 50 MP), single
//! thread, best and median of several runs. With `--photos DIR`, also the
//! unmarked-image detect time on real photos: up to `--limit` photos under
//! DIR (short side at least 512 px, at their own size; `nonphoto` folders
//! skipped), each detected once with the first-stage screen (as shipped)
//! and once without it; the table gives the mean and median, and how many
//! photos the screen let through to the full search.
//!
//! `cargo run --example bench_watermark [-- --runs N --big --photos DIR --limit N]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

mod common;

use std::time::Instant;

use hallmark::watermark::plane::{box_mean, Plane};
use hallmark::watermark::prng::Prng;
use hallmark::watermark::{self, DetectOptions, EmbedOptions};
use image::{DynamicImage, RgbImage};

/// A synthetic photo-like texture with no period of its own (a periodic
/// texture would pass the detector's first-stage screen, which unmarked
/// photos mostly do not): white noise box-blurred at two scales, plus grain.
fn textured(w: u32, h: u32) -> DynamicImage {
    let mut rng = Prng::new(5, 5);
    let (wu, hu) = (w as usize, h as usize);
    let noise = Plane {
        w: wu,
        h: hu,
        data: (0..wu * hu).map(|_| rng.next_f64() as f32 - 0.5).collect(),
    };
    let unit = |p: Plane| {
        let sd = (p.data.iter().map(|v| v * v).sum::<f32>() / p.data.len() as f32).sqrt();
        p.data.into_iter().map(move |v| v / sd.max(1e-9))
    };
    let v: Vec<u8> = unit(box_mean(&noise, 12))
        .zip(unit(box_mean(&noise, 3)))
        .zip(unit(noise.clone()))
        .map(|((c, m), g)| (128.0 + 45.0 * c + 20.0 * m + 6.0 * g).clamp(0.0, 255.0) as u8)
        .collect();
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let v = v[y as usize * wu + x as usize];
        image::Rgb([v, v / 2 + 40, 255 - v])
    }))
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2], last.unwrap())
}

fn main() {
    let runs = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(5);
    let mut sizes = vec![(1920u32, 1080u32, "1920x1080"), (4000, 3000, "12 MP")];
    if std::env::args().any(|a| a == "--big") {
        sizes.push((8660, 5774, "50 MP"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .ok();
    println!("| image | embed best / median | detect (marked) best / median | detect (unmarked) best / median |");
    println!("|---|---|---|---|");
    for (w, h, name) in sizes {
        let img = textured(w, h);
        let (eb, em, marked) = time(runs, || {
            watermark::embed(&img, 0xABCD, &EmbedOptions::default()).unwrap()
        });
        let (db, dm, d) = time(runs, || {
            watermark::detect(&marked, &DetectOptions::default()).unwrap()
        });
        assert!(d.detected, "{name}: not detected");
        let (ub, um, u) = time(runs, || {
            watermark::detect(&img, &DetectOptions::default()).unwrap()
        });
        assert!(!u.detected);
        println!("| {name} | {eb:.1} / {em:.1} ms | {db:.1} / {dm:.1} ms | {ub:.1} / {um:.1} ms |");
    }
    if let Some(dir) = arg("--photos") {
        let limit = arg("--limit").and_then(|v| v.parse().ok()).unwrap_or(40);
        photos(&dir, limit);
    }
}

/// The value after `flag` on the command line.
fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn mean_median(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    (mean, v.get(v.len() / 2).copied().unwrap_or(0.0))
}

/// Unmarked detect time on the real photos under `dir` (short side at least
/// 512 pixels, native size: the pool holds crops, not full camera frames).
fn photos(dir: &str, limit: usize) {
    let files: Vec<_> = common::pool_images(dir)
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("nonphoto"))
        .filter(|f| image::image_dimensions(f).is_ok_and(|(a, b)| a.min(b) >= 512))
        .collect();
    let step = (files.len() / limit.max(1)).max(1);
    let (mut screened, mut full, mut passed, mut mp) = (Vec::new(), Vec::new(), 0, 0.0);
    let exhaustive = DetectOptions {
        screen: false,
        ..DetectOptions::default()
    };
    for f in files.iter().step_by(step).take(limit) {
        let img = hallmark::media::decode_file(f, &Default::default()).unwrap();
        mp += f64::from(img.width()) * f64::from(img.height()) / 1e6;
        let (_, t, d) = time(1, || {
            watermark::detect(&img, &DetectOptions::default()).unwrap()
        });
        screened.push(t);
        passed += usize::from(d.lattices_tried > 0);
        let (_, t, _) = time(1, || watermark::detect(&img, &exhaustive).unwrap());
        full.push(t);
    }
    let n = screened.len();
    let (sm, smed) = mean_median(&mut screened);
    let (fm, fmed) = mean_median(&mut full);
    println!();
    println!("| unmarked photos | n (mean size) | screened: mean / median | passed the screen | full search: mean / median |");
    println!("|---|---|---|---|---|");
    println!(
        "| {dir} | {n} ({:.2} MP) | {sm:.1} / {smed:.1} ms | {passed} | {fm:.1} / {fmed:.1} ms |",
        mp / n.max(1) as f64
    );
}
