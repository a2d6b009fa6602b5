//! Robustness benchmark for hallmark's watermark: embed a payload in each
//! image, apply every attack of the chosen suites, detect, and print a
//! per-attack table (exact-payload rate), PSNR, and the false positives on
//! the unmarked originals (and, with `--fp-variants`, on their mirrored and
//! affine-warped copies).
//!
//! ```text
//! cargo run --example wm_robustness -- [--suite basic,hard,regen] [--min-side N]
//!     [--max-side N] [--limit N] [--jobs J] [--taef2 DIR]
//!     [--attacks PREFIX,...] [--photos] [--fp-only] [--fp-variants] [--upscale F]
//!     [--screen] [--screen-csv FILE] [-v] PATH...
//! ```
//!
//! PATH: image files or folders, searched recursively. Suites: `basic` (the
//! 16 attacks of the first goal), `hard` (platform attacks, lossy WebP when
//! `cwebp` is installed), `regen` (TAEF2 at latent noise 0, 1 and 2: needs
//! the ONNX models of `scripts/taef2_onnx.py`, default `target/taef2`, and
//! ONNX Runtime). `--attacks` keeps the attacks whose names start with one
//! of the prefixes; `--photos` skips `nonphoto` folders of the pool.
//! `--limit N` spreads N files evenly over the sorted list (after the side
//! filters). Unmarked images get the full search on every image (the
//! strictest false-positive count), unless `--screen`: that measures the
//! detector's first stage, with the screened detector (as shipped) on the
//! unmarked images and the full search on the marked ones, and the report
//! adds how many marked, attacked images the screen would have turned away
//! (its miss rate, and the exact detections lost) and how many unmarked ones
//! it lets through; `--screen-csv` also writes every score.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

mod regen;
mod screen;
mod webp;

use std::path::PathBuf;
use std::time::Instant;

use hallmark::watermark::attacks::{self, Attack};
use hallmark::watermark::{self, DetectOptions, EmbedOptions};
use image::DynamicImage;
use rayon::prelude::*;

/// One attack of the benchmark.
#[derive(Clone, Copy)]
enum Bench {
    Lib(Attack),
    Webp(u8),
    Regen(f32),
}

impl Bench {
    fn name(&self) -> String {
        match self {
            Bench::Lib(a) => a.name(),
            Bench::Webp(q) => format!("webp q{q}"),
            Bench::Regen(n) => format!("TAEF2 latent noise {n}"),
        }
    }
}

struct Args {
    paths: Vec<PathBuf>,
    limit: usize,
    jobs: usize,
    suites: Vec<String>,
    min_side: u32,
    max_side: u32,
    taef2: PathBuf,
    fp_only: bool,
    fp_variants: bool,
    upscale: f32,
    verbose: bool,
    only: Option<Vec<String>>,
    skip_nonphoto: bool,
    screen: bool,
    screen_csv: Option<PathBuf>,
}

fn parse() -> Args {
    let mut a = Args {
        paths: Vec::new(),
        limit: usize::MAX,
        jobs: 1,
        suites: vec!["basic".into()],
        min_side: 0,
        max_side: u32::MAX,
        taef2: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/taef2")),
        fp_only: false,
        fp_variants: false,
        upscale: 1.0,
        verbose: false,
        only: None,
        skip_nonphoto: false,
        screen: false,
        screen_csv: None,
    };
    let mut it = std::env::args().skip(1);
    fn num<T: std::str::FromStr>(v: Option<String>) -> Option<T> {
        v.and_then(|v| v.parse().ok())
    }
    while let Some(x) = it.next() {
        match x.as_str() {
            "--limit" => a.limit = num(it.next()).unwrap_or(usize::MAX),
            "--jobs" => a.jobs = num(it.next()).unwrap_or(1),
            "--suite" => {
                a.suites = it
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--min-side" => a.min_side = num(it.next()).unwrap_or(0),
            "--max-side" => a.max_side = num(it.next()).unwrap_or(u32::MAX),
            "--taef2" => a.taef2 = PathBuf::from(it.next().unwrap_or_default()),
            "--fp-only" => a.fp_only = true,
            "--fp-variants" => a.fp_variants = true,
            "--upscale" => a.upscale = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "-v" => a.verbose = true,
            "--attacks" => {
                a.only = Some(
                    it.next()
                        .unwrap_or_default()
                        .split(',')
                        .map(str::to_string)
                        .collect(),
                )
            }
            "--photos" => a.skip_nonphoto = true,
            "--screen" => a.screen = true,
            "--screen-csv" => {
                a.screen = true;
                a.screen_csv = it.next().map(PathBuf::from);
            }
            _ => a.paths.push(PathBuf::from(x)),
        }
    }
    a
}

fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        for e in walkdir::WalkDir::new(p)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            let ok = e
                .path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| {
                    matches!(
                        x.to_ascii_lowercase().as_str(),
                        "png" | "jpg" | "jpeg" | "webp" | "tif" | "tiff" | "bmp"
                    )
                });
            if e.file_type().is_file() && ok {
                out.push(e.into_path());
            }
        }
    }
    out
}

/// What one attack did to one marked image.
#[derive(Clone, Copy)]
struct Outcome {
    exact: bool,
    p: f64,
    /// The first-stage screen's score (with `--screen`).
    screen: Option<screen::Score>,
}

struct Row {
    name: String,
    psnr: Option<f64>,
    refused: Option<String>,
    false_positives: usize,
    unmarked_tested: usize,
    /// Screen scores of the unmarked copies (with `--screen`).
    unmarked_screen: Vec<screen::Score>,
    results: Vec<Outcome>,
}

/// The unmarked copies the false-positive count looks at.
fn unmarked_variants(img: &DynamicImage, all: bool) -> Vec<DynamicImage> {
    let mut v = vec![img.clone()];
    if all {
        v.push(img.fliph());
        v.push(attacks::warp(img, [1.0, 0.12, 0.0, 0.8]));
    }
    v
}

fn main() {
    let a = parse();
    let mut files = collect(&a.paths);
    if a.skip_nonphoto {
        files.retain(|f| !f.to_string_lossy().contains("nonphoto"));
    }
    if a.min_side > 0 || a.max_side < u32::MAX {
        // Header only; --upscale applies afterwards.
        files.retain(|f| {
            image::image_dimensions(f).is_ok_and(|(w, h)| {
                let (w, h) = ((w as f32 * a.upscale) as u32, (h as f32 * a.upscale) as u32);
                w.min(h) >= a.min_side && w.max(h) <= a.max_side
            })
        });
    }
    if files.len() > a.limit {
        let step = files.len() as f64 / a.limit as f64;
        files = (0..a.limit)
            .map(|i| files[(i as f64 * step) as usize].clone())
            .collect();
    }
    let mut suite: Vec<Bench> = Vec::new();
    for s in &a.suites {
        match s.as_str() {
            "basic" => suite.extend(Attack::standard().into_iter().map(Bench::Lib)),
            "hard" => {
                suite.extend(Attack::hard().into_iter().map(Bench::Lib));
                if webp::available() {
                    suite.push(Bench::Webp(50));
                } else {
                    println!(
                        "note: cwebp/dwebp not found (Debian package `webp`): webp q50 skipped"
                    );
                }
            }
            "regen" => suite.extend([0.0, 1.0, 2.0].map(Bench::Regen)),
            other => panic!("unknown suite {other:?} (basic, hard, regen)"),
        }
    }
    if let Some(only) = &a.only {
        suite.retain(|b| only.iter().any(|o| b.name().starts_with(o.as_str())));
    }
    let taef2 = suite
        .iter()
        .any(|b| matches!(b, Bench::Regen(_)))
        .then(|| regen::Taef2::load(&a.taef2));
    // Unmarked images: the screened detector with --screen (what ships:
    // its false positives and its speed), else the full search on every
    // image. Marked images: the full search with --screen (so the report
    // can count the detections the screen would lose).
    let uopts = DetectOptions {
        screen: a.screen,
        ..DetectOptions::default()
    };
    let dopts = DetectOptions {
        screen: !a.screen,
        ..DetectOptions::default()
    };
    let scored = |img: &DynamicImage| {
        a.screen
            .then(|| watermark::screen::score(img, dopts.key))
            .flatten()
    };
    let eopts = EmbedOptions::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.jobs)
        .build()
        .unwrap();
    let t0 = Instant::now();
    let rows: Vec<Row> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let name = f.display().to_string();
                let refused = |why: String| Row {
                    name: name.clone(),
                    psnr: None,
                    refused: Some(why),
                    false_positives: 0,
                    unmarked_tested: 0,
                    unmarked_screen: vec![],
                    results: vec![],
                };
                let img = match hallmark::media::decode_file(f, &Default::default()) {
                    Ok(i) if a.upscale != 1.0 => attacks::resize(&i, a.upscale),
                    Ok(i) => i,
                    Err(e) => return refused(e.to_string()),
                };
                let variants = unmarked_variants(&img, a.fp_variants);
                let fps = variants
                    .iter()
                    .filter(|v| watermark::detect(v, &uopts).is_ok_and(|d| d.detected))
                    .count();
                let mut row = refused(String::new());
                row.refused = None;
                row.false_positives = fps;
                row.unmarked_tested = variants.len();
                row.unmarked_screen = variants.iter().filter_map(scored).collect();
                if a.fp_only {
                    return row;
                }
                let payload = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
                let marked = match watermark::embed(&img, payload, &eopts) {
                    Ok(m) => m,
                    Err(e) => {
                        row.refused = Some(e.to_string());
                        return row;
                    }
                };
                row.psnr = Some(watermark::psnr(&img, &marked));
                row.results = suite
                    .iter()
                    .map(|b| {
                        let attacked = match b {
                            Bench::Lib(at) => at.apply(&marked, i as u64).unwrap(),
                            Bench::Webp(q) => webp::round_trip(&marked, *q),
                            Bench::Regen(n) => {
                                taef2.as_ref().unwrap().regenerate(&marked, *n, i as u64)
                            }
                        };
                        let d = watermark::detect(&attacked, &dopts).unwrap();
                        Outcome {
                            exact: d.payload == Some(payload),
                            p: d.p_value,
                            screen: scored(&attacked),
                        }
                    })
                    .collect();
                row
            })
            .collect()
    });
    report(&rows, &suite, a.verbose);
    if a.screen {
        let names: Vec<String> = suite.iter().map(Bench::name).collect();
        screen::report(&rows, &names, a.screen_csv.as_deref());
    }
    println!("elapsed {:.1} s", t0.elapsed().as_secs_f64());
}

fn report(rows: &[Row], suite: &[Bench], verbose: bool) {
    let marked: Vec<&Row> = rows.iter().filter(|r| r.psnr.is_some()).collect();
    println!(
        "images: {} ({} marked, {} refused)",
        rows.len(),
        marked.len(),
        rows.iter().filter(|r| r.refused.is_some()).count()
    );
    for r in rows.iter().filter(|r| r.refused.is_some()) {
        println!(
            "  refused {}: {}",
            r.name,
            r.refused.as_deref().unwrap_or("")
        );
    }
    let ps: Vec<f64> = marked.iter().filter_map(|r| r.psnr).collect();
    if !ps.is_empty() {
        let mean = ps.iter().sum::<f64>() / ps.len() as f64;
        let min = ps.iter().cloned().fold(f64::INFINITY, f64::min);
        println!("PSNR: mean {mean:.2} dB, min {min:.2} dB");
    }
    let fps: usize = rows.iter().map(|r| r.false_positives).sum();
    let tested: usize = rows.iter().map(|r| r.unmarked_tested).sum();
    println!("false positives on unmarked images: {fps} / {tested}");
    if marked.is_empty() || suite.is_empty() {
        return;
    }
    println!("| attack | exact payload | rate |");
    println!("|---|---|---|");
    let n = marked.len();
    for (k, b) in suite.iter().enumerate() {
        let ok = marked.iter().filter(|r| r.results[k].exact).count();
        println!(
            "| {} | {ok}/{n} | {:.1}% |",
            b.name(),
            100.0 * ok as f64 / n as f64
        );
        if verbose {
            for r in marked.iter().filter(|r| !r.results[k].exact) {
                eprintln!("   miss {}: p={:.2e}", r.name, r.results[k].p);
            }
        }
    }
}
