//! Recovery benchmark for durable credentials: sign images with
//! `--watermark`, record them in a fresh registry, then strip and attack
//! them (every standard watermark attack plus a screenshot chain) and
//! count correct, missed and wrong recoveries; then run recovery on the
//! unsigned rest of the pool (unrelated images, near-duplicates of signed
//! ones among them) and count wrong recoveries.
//!
//! `cargo run --release --example recovery_rate -- [--signed N] [--unrelated M]
//!  [--jobs J] [--skip-attacks] POOL_DIR`
//!
//! A recovery on an unsigned image that is the same picture as the signed
//! image it recovered to is counted apart, as a *copy of a signed
//! picture*, not as wrong: the pool holds pairs of one picture under the
//! same name in two folders (`real/aligned_taef2_src/X.png` and its
//! autoencoder reconstruction `fake/aligned_taef2/X.png`, about 31 dB
//! PSNR), and a few pictures under two names (one Stable Diffusion sample
//! panel in both `sd1_compvis_assets` and `sd2_stability_assets`), and
//! leading such a copy back to the original's credentials is what recovery
//! is for. "Same picture": the same file name, or the same size and a
//! PSNR of at least 35 dB against the signed source (printed with each
//! recovery). Every other recovery on the unsigned set is wrong.
//!
//! The signed set is every k-th usable image of POOL_DIR (sorted by path),
//! so groups of near-duplicates in the pool (photos of one chart by many
//! cameras, one prompt by several models) are split between the signed set
//! and the unrelated set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use hallmark::credentials::registry::{self, Create};
use hallmark::credentials::{sign_durable, Record, Resolver};
use hallmark::keys::{keygen, KeygenOptions, TrustStore};
use hallmark::media::Limits;
use hallmark::provenance::{SignOptions, Verifier};
use hallmark::watermark::attacks::Attack;
use hallmark::watermark::EmbedOptions;
use image::{DynamicImage, Rgb, RgbImage};
use rayon::prelude::*;

/// A screenshot: shown at 80% in a window with a title bar and borders,
/// captured as PNG, then shared as JPEG q85.
fn screenshot(img: &DynamicImage) -> DynamicImage {
    let shown = img.resize(
        (img.width() * 4 / 5).max(1),
        (img.height() * 4 / 5).max(1),
        image::imageops::FilterType::Triangle,
    );
    let (w, h) = (shown.width(), shown.height());
    let (side, top) = (w / 25 + 4, h / 8 + 20);
    let mut canvas = RgbImage::from_pixel(w + 2 * side, h + top + side, Rgb([236, 236, 236]));
    for y in 0..top {
        for x in 0..canvas.width() {
            if y < top / 2 {
                canvas.put_pixel(x, y, Rgb([60, 64, 72]));
            } else if (x / 9) % 7 == 0 && y > top * 2 / 3 {
                canvas.put_pixel(x, y, Rgb([120, 120, 120]));
            }
        }
    }
    image::imageops::overlay(
        &mut canvas,
        &shown.to_rgb8(),
        i64::from(side),
        i64::from(top),
    );
    let png = hallmark::watermark::attacks::png(&DynamicImage::ImageRgb8(canvas)).unwrap();
    hallmark::watermark::attacks::jpeg(&png, 85).unwrap()
}

/// PSNR (dB) of two images of the same size, `None` otherwise.
fn psnr(a: &DynamicImage, b: &DynamicImage) -> Option<f64> {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    Some(if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    })
}

/// An attack applied to decoded pixels.
type AttackFn = Box<dyn Fn(&DynamicImage) -> DynamicImage + Sync>;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut n_signed, mut n_unrelated, mut jobs) = (200usize, 1_000usize, 2usize);
    let mut skip_attacks = false;
    let mut pool = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--signed" => n_signed = args.next().unwrap().parse().unwrap(),
            "--unrelated" => n_unrelated = args.next().unwrap().parse().unwrap(),
            "--jobs" => jobs = args.next().unwrap().parse().unwrap(),
            "--skip-attacks" => skip_attacks = true,
            p => pool = Some(p.to_string()),
        }
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global()
        .unwrap();
    let pool = pool.expect("POOL_DIR");
    let all = common::pool_images(&pool);
    let work = tempfile::tempdir().unwrap();
    let keys = keygen(&KeygenOptions {
        name: "bench".into(),
        out_dir: work.path().join("k"),
        ca_key: None,
        force: false,
    })
    .unwrap();
    let trust_dir = work.path().join("trust");
    std::fs::create_dir(&trust_dir).unwrap();
    std::fs::copy(&keys.ca_certificate, trust_dir.join("ca.crt")).unwrap();
    let trust = TrustStore::load_dir(&trust_dir).unwrap();
    let reg_path = work.path().join("r.sqlite");
    let reg = registry::open(&reg_path.to_string_lossy(), Create::IfMissing).unwrap();

    // Sign every k-th image (that the watermark accepts).
    let step = (all.len() / (n_signed + n_signed / 10 + 1)).max(1);
    let mut opts = SignOptions::new(&keys.key);
    opts.source_type = Some("trainedAlgorithmicMedia".into());
    let verifier = Verifier::new(&trust).unwrap();
    let candidates: Vec<(usize, PathBuf)> = all.iter().cloned().enumerate().step_by(step).collect();
    let signed: Vec<(usize, PathBuf, String, PathBuf)> = candidates
        .par_iter()
        .filter_map(|(i, p)| {
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("png");
            let out = work.path().join(format!("s{i}.{ext}"));
            let d = sign_durable(p, &out, &opts, &EmbedOptions::default()).ok()?;
            Some((*i, out, d.signed.manifest_id, p.clone()))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .take(n_signed)
        .collect();
    for (_, out, _, _) in &signed {
        let bytes = std::fs::read(out).unwrap();
        let rec = Record::from_signed(&bytes, None, &verifier, &Limits::default()).unwrap();
        reg.insert(&rec.record).unwrap();
    }
    let signed_idx: std::collections::HashSet<usize> = signed.iter().map(|s| s.0).collect();
    let source_of: std::collections::HashMap<&str, &PathBuf> =
        signed.iter().map(|s| (s.2.as_str(), &s.3)).collect();
    eprintln!(
        "{} images signed and recorded (of {} tried)",
        signed.len(),
        candidates.len()
    );
    let resolver = Resolver::new(reg, &trust).unwrap();

    // Stripped and attacked copies.
    let mut attacks: Vec<(String, AttackFn)> = if skip_attacks {
        Vec::new()
    } else {
        Attack::standard()
            .into_iter()
            .map(|a| {
                let f: AttackFn = Box::new(move |img| a.apply(img, 11).unwrap());
                (a.name(), f)
            })
            .collect()
    };
    if !skip_attacks {
        attacks.push((
            "screenshot (80%, window, PNG, JPEG q85)".into(),
            Box::new(screenshot),
        ));
    }
    println!("| attack | recovered | rate | via watermark | wrong |\n|---|---|---|---|---|");
    let (mut tot_ok, mut tot, mut tot_wrong) = (0, 0, 0);
    // Whole-image distances of correct fingerprint-only recoveries.
    let fp_only = std::sync::Mutex::new(Vec::<u32>::new());
    for (name, f) in &attacks {
        let ok = AtomicUsize::new(0);
        let wm = AtomicUsize::new(0);
        let wrong = AtomicUsize::new(0);
        signed.par_iter().for_each(|(_, out, id, _)| {
            let img = image::open(out).unwrap();
            let r = resolver.recover_image(&f(&img)).unwrap();
            match r.recovered {
                Some(rec) if &rec.manifest_id == id => {
                    ok.fetch_add(1, Ordering::Relaxed);
                    if rec.via == hallmark::credentials::recover::Via::Watermark {
                        wm.fetch_add(1, Ordering::Relaxed);
                    } else {
                        fp_only.lock().unwrap().push(rec.distance);
                    }
                }
                Some(_) => {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
        });
        let (o, w, x) = (ok.into_inner(), wm.into_inner(), wrong.into_inner());
        println!(
            "| {name} | {o}/{} | {:.1}% | {w} | {x} |",
            signed.len(),
            100.0 * o as f64 / signed.len() as f64
        );
        tot_ok += o;
        tot += signed.len();
        tot_wrong += x;
    }
    if tot > 0 {
        println!(
            "| all attacks | {tot_ok}/{tot} | {:.1}% | | {tot_wrong} |",
            100.0 * tot_ok as f64 / tot as f64
        );
    }

    let mut d = fp_only.into_inner().unwrap();
    if !d.is_empty() {
        d.sort_unstable();
        let mut hist = std::collections::BTreeMap::new();
        for x in &d {
            *hist.entry(*x).or_insert(0usize) += 1;
        }
        println!(
            "\ncorrect fingerprint-only recoveries: {}; whole-image distance median {}, max {}; \
             histogram (distance: count): {hist:?}",
            d.len(),
            d[d.len() / 2],
            d[d.len() - 1]
        );
    }

    // Unrelated images (the unsigned rest of the pool).
    let unrelated: Vec<&PathBuf> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !signed_idx.contains(i))
        .map(|(_, p)| p)
        .take(n_unrelated)
        .collect();
    let wrong = AtomicUsize::new(0);
    let copies = AtomicUsize::new(0);
    let checked = AtomicUsize::new(0);
    unrelated.par_iter().for_each(|p| {
        let Ok(img) = image::open(p) else { return };
        checked.fetch_add(1, Ordering::Relaxed);
        let r = resolver.recover_image(&img).unwrap();
        if let Some(rec) = r.recovered {
            let source = source_of.get(rec.manifest_id.as_str());
            let db = source
                .and_then(|s| image::open(s).ok())
                .and_then(|s| psnr(&s, &img));
            let same_picture = source.is_some_and(|s| s.file_name() == p.file_name())
                || db.is_some_and(|db| db >= 35.0);
            let what = if same_picture {
                copies.fetch_add(1, Ordering::Relaxed);
                "COPY"
            } else {
                wrong.fetch_add(1, Ordering::Relaxed);
                "WRONG"
            };
            eprintln!(
                "{what}: {} -> {} signed from {} ({}; PSNR against it {})",
                p.display(),
                rec.manifest_id,
                source.map_or("?".into(), |s| s.display().to_string()),
                rec.binding,
                db.map_or("n/a (other size)".into(), |d| format!("{d:.1} dB"))
            );
        }
    });
    println!(
        "\nunsigned images: {} checked, {} wrong recoveries, {} recovered to the signed original \
         of the same picture (same file name, or same size and PSNR >= 35 dB)",
        checked.into_inner(),
        wrong.into_inner(),
        copies.into_inner()
    );
}
