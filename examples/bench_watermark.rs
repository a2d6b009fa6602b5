//! Speed benchmark for hallmark's watermark: embed and detect on synthetic
//! textured images of 1920x1080 and 12 MP (and optionally 50 MP), single
//! thread, best and median of several runs.
//!
//! `cargo run --example bench_watermark [-- --runs N --big]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

use std::time::Instant;

use hallmark::watermark::prng::Prng;
use hallmark::watermark::{self, DetectOptions, EmbedOptions};
use image::{DynamicImage, RgbImage};

fn textured(w: u32, h: u32) -> DynamicImage {
    let mut rng = Prng::new(5, 5);
    let cell = 24u32;
    let gw = w / cell + 2;
    let g: Vec<f32> = (0..gw * (h / cell + 2))
        .map(|_| rng.next_f64() as f32 * 200.0)
        .collect();
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let (i, j) = (x / cell, y / cell);
        let (tx, ty) = (
            (x % cell) as f32 / cell as f32,
            (y % cell) as f32 / cell as f32,
        );
        let at = |a: u32, b: u32| g[(b * gw + a) as usize];
        let top = at(i, j) + (at(i + 1, j) - at(i, j)) * tx;
        let bot = at(i, j + 1) + (at(i + 1, j + 1) - at(i, j + 1)) * tx;
        let v = (top + (bot - top) * ty + ((x * 7 + y * 13) % 17) as f32) as u8;
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
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut sizes = vec![(1920u32, 1080u32, "1920x1080"), (4000, 3000, "12 MP")];
    if args.iter().any(|a| a == "--big") {
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
}
