//! Calibration of the fingerprint-alone match (recovery without a
//! watermark): how far an attacked copy's fingerprint lands from its
//! original, against how close the pool's *other* images come to it.
//!
//! `cargo run --example fingerprint_match -- [--signed N] POOL_DIR`
//!
//! The "registered" set is every k-th image of POOL_DIR (the same choice
//! as `recovery_rate`: sorted by path, k = len / (1.1 N)), unsigned (the
//! watermark moves the fingerprint by a bit or two at most). Each is
//! attacked with the watermark's standard attack list; for each copy the
//! whole-image Hamming distance to its original and the two grid
//! correlations (luma, and detail: luma minus its 3x3 local mean) are
//! recorded. Then every other image of the pool is compared with its
//! nearest registered fingerprint: those within 31 bits are listed with
//! the same three numbers. A rule for the fingerprint-alone match must
//! keep the first group and refuse the second.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

mod common;

use hallmark::credentials::fingerprint::{detail_correlation, grid_correlation, Fingerprint};
use hallmark::watermark::attacks::Attack;
use rayon::prelude::*;

/// (distance, luma correlation, detail correlation) of two fingerprints.
fn compare(a: &Fingerprint, b: &Fingerprint) -> (u32, f64, f64) {
    (
        a.hash.distance(&b.hash),
        grid_correlation(&a.grid, &b.grid).unwrap_or(0.0),
        detail_correlation(&a.grid, &b.grid).unwrap_or(0.0),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n_signed = 200usize;
    let mut pool = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--signed" => n_signed = args.next().unwrap().parse().unwrap(),
            p => pool = Some(p.to_string()),
        }
    }
    let pool = pool.expect("POOL_DIR");
    let all = common::pool_images(&pool);
    let step = (all.len() / (n_signed + n_signed / 10 + 1)).max(1);
    let fps: Vec<Option<Fingerprint>> = all
        .par_iter()
        .map(|p| image::open(p).ok().map(|i| Fingerprint::of(&i)))
        .collect();
    let registered: Vec<usize> = (0..all.len())
        .step_by(step)
        .filter(|&i| fps[i].as_ref().is_some_and(Fingerprint::usable))
        .take(n_signed)
        .collect();
    eprintln!("{} registered of {} images", registered.len(), all.len());

    // Attacked copies against their originals.
    println!("attacked copies (whole-image distance <= 31 to the original):");
    println!("| attack | copies | d<=31 | d<=24 | d<=16 | d<=12 | min luma r (d<=24) | min detail r (d<=24) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut pairs: Vec<(u32, f64, f64)> = Vec::new();
    for attack in Attack::standard() {
        let rows: Vec<(u32, f64, f64)> = registered
            .par_iter()
            .filter_map(|&i| {
                let img = image::open(&all[i]).ok()?;
                let q = Fingerprint::of(&attack.apply(&img, 11).ok()?);
                Some(compare(fps[i].as_ref()?, &q))
            })
            .collect();
        let within = |r: u32| rows.iter().filter(|x| x.0 <= r).count();
        let close: Vec<&(u32, f64, f64)> = rows.iter().filter(|x| x.0 <= 24).collect();
        let min_r = close.iter().map(|x| x.1).fold(f64::NAN, f64::min);
        let min_dr = close.iter().map(|x| x.2).fold(f64::NAN, f64::min);
        println!(
            "| {} | {} | {} | {} | {} | {} | {min_r:.3} | {min_dr:.3} |",
            attack.name(),
            rows.len(),
            within(31),
            within(24),
            within(16),
            within(12)
        );
        pairs.extend(rows.into_iter().filter(|x| x.0 <= 31));
    }
    let mut hist = [0usize; 32];
    for p in &pairs {
        hist[p.0 as usize] += 1;
    }
    println!("\ndistance histogram of attacked copies within 31 (d:count): {hist:?}");
    let mut det: Vec<f64> = pairs.iter().filter(|p| p.0 <= 24).map(|p| p.2).collect();
    det.sort_by(f64::total_cmp);
    if !det.is_empty() {
        println!(
            "detail correlation of copies within 24: min {:.3}, 1% {:.3}, 5% {:.3}, median {:.3}",
            det[0],
            det[det.len() / 100],
            det[det.len() / 20],
            det[det.len() / 2]
        );
    }

    // Other images against their nearest registered fingerprint.
    println!("\nunregistered images within 31 of a registered one:");
    let reg_set: std::collections::HashSet<usize> = registered.iter().copied().collect();
    let mut near: Vec<(u32, f64, f64, usize, usize)> = (0..all.len())
        .into_par_iter()
        .filter(|i| !reg_set.contains(i))
        .filter_map(|i| {
            let q = fps[i].as_ref()?;
            let (j, d) = registered
                .iter()
                .map(|&j| (j, fps[j].as_ref().unwrap().hash.distance(&q.hash)))
                .min_by_key(|x| x.1)?;
            (d <= 31).then(|| {
                let (d, r, dr) = compare(fps[j].as_ref().unwrap(), q);
                (d, r, dr, i, j)
            })
        })
        .collect();
    near.sort_by_key(|x| x.0);
    for (d, r, dr, i, j) in &near {
        println!(
            "d {d:2} luma r {r:.3} detail r {dr:.3} quality {:3}  {}  ~  {}",
            fps[*i].as_ref().unwrap().quality,
            all[*i].strip_prefix(&pool).unwrap_or(&all[*i]).display(),
            all[*j].strip_prefix(&pool).unwrap_or(&all[*j]).display()
        );
    }
}
