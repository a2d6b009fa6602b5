//! Robustness benchmark for hallmark's watermark: embed a random payload in
//! each image, apply every standard attack, detect, and print a per-attack
//! table (exact-payload detection rate), the mean/min PSNR, and the false
//! positives on the unmarked originals.
//!
//! `cargo run --example wm_robustness -- [--limit N] [--attacks a,b] [--jobs J] PATH...`
//! (PATH: image files or folders, searched recursively; `--fp-only` only
//! runs detection on the unmarked files and counts false positives;
//! `--upscale F` resizes every input by F first, e.g. 2.5 to test
//! multi-megapixel images.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

use std::path::PathBuf;
use std::time::Instant;

use hallmark::watermark::attacks::Attack;
use hallmark::watermark::{self, DetectOptions, EmbedOptions};
use rayon::prelude::*;

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

struct Row {
    name: String,
    psnr: Option<f64>,
    refused: Option<String>,
    false_positive: bool,
    results: Vec<(bool, f64)>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut paths = Vec::new();
    let mut limit = usize::MAX;
    let mut only: Option<Vec<String>> = None;
    let mut jobs = 1usize;
    let mut verbose = false;
    let mut fp_only = false;
    let mut upscale = 1.0f32;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--limit" => {
                limit = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX)
            }
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--attacks" => {
                only = args
                    .next()
                    .map(|v| v.split(',').map(str::to_string).collect())
            }
            "-v" => verbose = true,
            "--fp-only" => fp_only = true,
            "--upscale" => upscale = args.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let mut files = collect(&paths);
    if files.len() > limit {
        // Spread the selection evenly over the sorted list.
        let step = files.len() as f64 / limit as f64;
        files = (0..limit)
            .map(|i| files[(i as f64 * step) as usize].clone())
            .collect();
    }
    let attacks: Vec<Attack> = Attack::standard()
        .into_iter()
        .filter(|a| {
            only.as_ref()
                .is_none_or(|o| o.iter().any(|n| a.name().starts_with(n.as_str())))
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .unwrap();
    let t0 = Instant::now();
    let rows: Vec<Row> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let name = f.display().to_string();
                let img = match hallmark::media::decode_file(f, &Default::default()) {
                    Ok(i) if upscale != 1.0 => hallmark::watermark::attacks::resize(&i, upscale),
                    Ok(i) => i,
                    Err(e) => {
                        return Row {
                            name,
                            psnr: None,
                            refused: Some(e.to_string()),
                            false_positive: false,
                            results: vec![],
                        }
                    }
                };
                let fp = watermark::detect(&img, &DetectOptions::default())
                    .map(|d| d.detected)
                    .unwrap_or(false);
                if fp_only {
                    return Row {
                        name,
                        psnr: None,
                        refused: None,
                        false_positive: fp,
                        results: vec![],
                    };
                }
                let payload = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
                let marked = match watermark::embed(&img, payload, &EmbedOptions::default()) {
                    Ok(m) => m,
                    Err(e) => {
                        return Row {
                            name,
                            psnr: None,
                            refused: Some(e.to_string()),
                            false_positive: fp,
                            results: vec![],
                        }
                    }
                };
                let psnr = watermark::psnr(&img, &marked);
                let results = attacks
                    .iter()
                    .map(|a| {
                        let attacked = a.apply(&marked, i as u64).unwrap();
                        let d = watermark::detect(&attacked, &DetectOptions::default()).unwrap();
                        if verbose {
                            eprintln!(
                                "{name} {}: det={} z={:.1} p={:.2e} scale={:.3} rot={:.2} lat={}",
                                a.name(),
                                d.detected,
                                d.z_score,
                                d.p_value,
                                d.scale,
                                d.rotation_deg,
                                d.lattices_tried
                            );
                        }
                        (d.payload == Some(payload), d.p_value)
                    })
                    .collect();
                Row {
                    name,
                    psnr: Some(psnr),
                    refused: None,
                    false_positive: fp,
                    results,
                }
            })
            .collect()
    });
    let marked: Vec<&Row> = rows.iter().filter(|r| r.psnr.is_some()).collect();
    println!(
        "images: {} ({} marked, {} refused)",
        rows.len(),
        marked.len(),
        rows.len() - marked.len()
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
    let fps = rows.iter().filter(|r| r.false_positive).count();
    println!(
        "false positives on unmarked originals: {fps} / {}",
        rows.len()
    );
    println!("| attack | detected (exact payload) | rate |");
    println!("|---|---|---|");
    for (k, a) in attacks.iter().enumerate() {
        let ok = marked.iter().filter(|r| r.results[k].0).count();
        println!(
            "| {} | {ok}/{} | {:.1}% |",
            a.name(),
            marked.len(),
            100.0 * ok as f64 / marked.len().max(1) as f64
        );
        if verbose {
            for r in marked.iter().filter(|r| !r.results[k].0) {
                eprintln!("   miss {}: p={:.2e}", r.name, r.results[k].1);
            }
        }
    }
    println!("elapsed {:.1} s", t0.elapsed().as_secs_f64());
}
