//! Scan throughput benchmark (not a test): files/s and MB/s at several
//! `--jobs`, and where the time goes per stage.
//!
//! ```sh
//! cargo run --example bench_scan                     # 200 files, jobs 1 and 2
//! cargo run --example bench_scan -- --count 50 --jobs 1,2 --dir /tmp/set
//! ```
//!
//! The first run builds a folder of mixed JPEG (q90) and PNG photos from 1 to
//! 12 megapixels, made by resampling the real photos in
//! `../shared/data/cls/real/` (or `--src DIR`) to each size, and keeps it for
//! later runs (default `$TMPDIR/hallmark-bench-scan`; never committed).
//! Every check runs (the classifier when ONNX Runtime and a model are found:
//! the report says which stages ran). Goal: decoding is the bottleneck:
//! every other stage together costs less than the decode.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hallmark::report::{CheckOptions, Checker};
use hallmark::scan::{scan, ScanOptions};

struct Args {
    dir: PathBuf,
    src: PathBuf,
    count: usize,
    jobs: Vec<usize>,
    no_classifier: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        dir: std::env::temp_dir().join("hallmark-bench-scan"),
        src: Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cls/real"),
        count: 200,
        jobs: vec![1, 2],
        no_classifier: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => a.dir = value()?.into(),
            "--src" => a.src = value()?.into(),
            "--count" => a.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--jobs" => {
                a.jobs = value()?
                    .split(',')
                    .map(|j| j.parse().map_err(|e| format!("--jobs: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--no-classifier" => a.no_classifier = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| hallmark::scan::has_image_extension(p))
        .collect();
    // Colour photos only: skip the grayscale sets.
    v.retain(|p| {
        let s = p.to_string_lossy();
        !s.contains("urban100") && !s.contains("sun_hays") && !s.contains("aligned_taef2")
    });
    v
}

/// Make `count` photos of 1..=12 MP (3 in 4 JPEG) unless already there.
fn ensure_corpus(a: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&a.dir).map_err(|e| e.to_string())?;
    let have = std::fs::read_dir(&a.dir)
        .map_err(|e| e.to_string())?
        .count();
    if have >= a.count {
        return Ok(());
    }
    let src = sources(&a.src);
    if src.is_empty() {
        return Err(format!("no source photos under {}", a.src.display()));
    }
    eprintln!(
        "bench: making {} photos in {} (once)",
        a.count,
        a.dir.display()
    );
    let t = Instant::now();
    for i in 0..a.count {
        let mp = 1.0 + (i % 12) as f64; // 1..12 MP, evenly
        let png = i % 4 == 3;
        let name = a.dir.join(format!(
            "p{i:03}-{mp:02}mp.{}",
            if png { "png" } else { "jpg" }
        ));
        if name.exists() {
            continue;
        }
        let img = image::open(&src[i % src.len()])
            .map_err(|e| e.to_string())?
            .to_rgb8();
        let aspect = img.width() as f64 / img.height() as f64;
        let h = (mp * 1e6 / aspect).sqrt().round() as u32;
        let w = (h as f64 * aspect).round() as u32;
        let big = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
        if png {
            big.save(&name).map_err(|e| e.to_string())?;
        } else {
            let f = std::fs::File::create(&name).map_err(|e| e.to_string())?;
            let mut enc =
                image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(f), 90);
            enc.encode_image(&big).map_err(|e| e.to_string())?;
        }
    }
    eprintln!("bench: made in {:.0} s", t.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> Result<(), String> {
    let a = parse_args()?;
    ensure_corpus(&a)?;
    let opts = CheckOptions {
        no_classifier: a.no_classifier,
        ..CheckOptions::default()
    };
    let checker = Checker::new(&opts).map_err(|e| e.to_string())?;
    let inputs = [a.dir.clone()];
    println!(
        "scan benchmark: {} ({} files, {} cores)",
        a.dir.display(),
        std::fs::read_dir(&a.dir)
            .map_err(|e| e.to_string())?
            .count(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for &jobs in &a.jobs {
        let first = std::sync::Mutex::new(None::<String>);
        let s = scan(
            &inputs,
            &checker,
            &ScanOptions { jobs },
            &HashSet::new(),
            std::io::sink(),
            &|line| {
                if let hallmark::scan::Line::Report(r) = line {
                    if let Ok(mut f) = first.lock() {
                        if f.is_none() {
                            let missing: Vec<String> = r
                                .missing_sections()
                                .iter()
                                .map(|(n, why)| format!("{n} ({why})"))
                                .collect();
                            *f = Some(missing.join("; "));
                        }
                    }
                }
            },
        )
        .map_err(|e| e.to_string())?;
        println!(
            "\n--jobs {jobs}: {} files, {} errors, {:.1} MB in {:.2} s: {:.2} files/s, {:.1} MB/s",
            s.checked,
            s.errors,
            s.bytes as f64 / 1e6,
            s.elapsed.as_secs_f64(),
            s.files_per_sec(),
            s.mb_per_sec()
        );
        if let Ok(Some(m)) = first.into_inner() {
            if !m.is_empty() {
                println!("  stages not run: {m}");
            }
        }
        let n = s.checked.max(1) as f64;
        let decode = s.stages.decode;
        let mut others = 0.0;
        println!("  {:<11} {:>9} {:>8}", "stage", "ms/file", "share");
        for (name, ms) in s.stages.stages() {
            if name != "decode" && name != "read" {
                others += ms;
            }
            println!(
                "  {name:<11} {:>9.2} {:>7.1}%",
                ms / n,
                100.0 * ms / s.stages.total.max(1e-9)
            );
        }
        println!("  {:<11} {:>9.2}", "total", s.stages.total / n);
        println!(
            "  decode {:.1} ms/file vs all other analysis {:.1} ms/file: decoding is {}the bottleneck",
            decode / n,
            others / n,
            if decode >= others { "" } else { "NOT " }
        );
    }
    Ok(())
}
