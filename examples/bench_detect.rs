//! Benchmark for `hallmark detect`: model load time and milliseconds per
//! 1 MP and 12 MP image on one ONNX Runtime thread.
//!
//! ```sh
//! cargo run --example bench_detect                 # models/default.json
//! cargo run --example bench_detect -- --model M    # another card
//! cargo run --example bench_detect -- --two-threads   # also 2 intra-op threads
//! ```
//!
//! Images are generated (a deterministic textured pattern), encoded as JPEG
//! q90 and PNG in memory; "decode+score" is what `detect` does per file,
//! "score" skips decoding. Numbers are medians of several runs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark, not library code

use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use hallmark::detect::{find_model, Detector, LoadOptions, SessionConfig};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn image(w: u32, h: u32) -> image::DynamicImage {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state >> 56) as u8 / 8;
        let base = ((x / 7 + y / 5) % 200) as u8;
        image::Rgb([base + n, (base / 2) + n, 255 - base - n])
    });
    image::DynamicImage::ImageRgb8(img)
}

fn encode(img: &image::DynamicImage, fmt: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    match fmt {
        image::ImageFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            img.write_with_encoder(enc).unwrap();
        }
        _ => img.write_to(&mut Cursor::new(&mut out), fmt).unwrap(),
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args
        .iter()
        .position(|a| a == "--model")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let card = find_model(model.as_deref()).expect("no model: pass --model");
    println!("model card: {}", card.display());

    let threads_list: Vec<usize> = if args.iter().any(|a| a == "--two-threads") {
        vec![1, 2]
    } else {
        vec![1]
    };
    for threads in threads_list {
        let opts = LoadOptions {
            session: SessionConfig {
                intra_threads: threads,
            },
            ..LoadOptions::default()
        };
        // Load: the first includes finding and opening ONNX Runtime (once per process).
        let mut loads = Vec::new();
        let mut load_cpu = Vec::new();
        let mut det = None;
        for _ in 0..5 {
            drop(det.take());
            let (t, c) = (Instant::now(), thread_cpu_ms());
            det = Some(Detector::load_card(&card, &opts).unwrap());
            loads.push(t.elapsed().as_secs_f64() * 1e3);
            load_cpu.push(thread_cpu_ms() - c);
        }
        let det = det.unwrap();
        if threads == 1 {
            let rt = hallmark::detect::runtime::runtime(None).unwrap();
            println!(
                "ONNX Runtime: {} ({:?})",
                rt.library().display(),
                rt.source()
            );
            match det.card() {
                Some(c) => println!(
                    "model: {} (crop {}, max {} crops)",
                    det.model_id(),
                    c.crop.size,
                    c.crop.max_crops
                ),
                None => println!(
                    "model: {} (fused: {})",
                    det.model_id(),
                    det.member_names().join(" + ")
                ),
            }
            println!("load, first (incl. ONNX Runtime init): {:.1} ms", loads[0]);
        }
        println!(
            "\n== {threads} intra-op thread(s); load (card + sha256 + sessions), median of 4: \
             {:.1} ms wall, {:.1} ms CPU of this thread",
            median(loads[1..].to_vec()),
            median(load_cpu[1..].to_vec())
        );
        println!(
            "{:>7} {:>6} {:>24} {:>24} {:>22} {:>22}",
            "image",
            "crops",
            "decode+score JPEG",
            "decode+score PNG",
            "JPEG decode only",
            "score only"
        );
        println!(
            "{:>7} {:>6} {:>24} {:>24} {:>22} {:>22}",
            "", "", "wall / cpu ms", "wall / cpu ms", "wall / cpu ms", "wall / cpu ms"
        );
        for (label, w, h) in [("1 MP", 1000u32, 1000u32), ("12 MP", 4000, 3000)] {
            let img = image(w, h);
            let jpeg = encode(&img, image::ImageFormat::Jpeg);
            let png = encode(&img, image::ImageFormat::Png);
            let runs = if w * h > 2_000_000 { 5 } else { 11 };
            let _ = det.detect_image(&img).unwrap(); // warm-up
            let time = |f: &dyn Fn() -> usize| {
                let (wall, cpu): (Vec<f64>, Vec<f64>) = (0..runs)
                    .map(|_| {
                        let (t, c) = (Instant::now(), thread_cpu_ms());
                        std::hint::black_box(f());
                        (t.elapsed().as_secs_f64() * 1e3, thread_cpu_ms() - c)
                    })
                    .unzip();
                format!("{:.1} / {:.1}", median(wall), median(cpu))
            };
            let limits = hallmark::media::Limits::default();
            let crops = det.detect_image(&img).unwrap().crops;
            let j = time(&|| det.detect_bytes(&jpeg).unwrap().crops);
            let p = time(&|| det.detect_bytes(&png).unwrap().crops);
            let d = time(&|| hallmark::media::decode(&jpeg, &limits).unwrap().width() as usize);
            let s = time(&|| det.detect_image(&img).unwrap().crops);
            println!("{label:>7} {crops:>6} {j:>24} {p:>24} {d:>22} {s:>22}");
        }
    }
}

/// CPU time this thread has used, in ms (Linux `schedstat`; NaN elsewhere).
/// With one ONNX Runtime thread, inference runs on the calling thread, so
/// this is the cost of an image even on a machine shared with other work.
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}
