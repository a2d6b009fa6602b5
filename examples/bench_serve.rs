//! `hallmark serve` benchmark (not a test): load, latency, memory and cold
//! start, against `hallmark scan --jobs 2` on the same files.
//!
//! ```sh
//! cargo build && cargo run --example bench_serve
//! cargo run --example bench_serve -- --clients 32 --seconds 60 --no-classifier
//! cargo run --example bench_serve -- --skip-load --cold-runs 7   # cold start only
//! ```
//!
//! 1. Makes a set of 1-megapixel JPEGs (q90) by resampling camera photos
//!    (`--src`, default `../shared/data/cls/real/digicam_corpus`), once, in
//!    `$TMPDIR/hallmark-bench-serve`.
//! 2. Baseline: `hallmark scan - --jobs 2` over those files (the list
//!    repeated `--scan-repeat` times), files/s and peak RSS.
//! 3. Load: starts `hallmark serve` (`--bin`: target/release/hallmark when
//!    built, else target/debug/hallmark), waits for `/readyz`,
//!    then `--clients` threads each keep one connection open and POST the
//!    files to `/v1/check` in turn for `--seconds`. Prints requests/s,
//!    latency percentiles, errors by status, and the server's peak RSS
//!    (`VmHWM`), and the ratio to the scan's files/s.
//! 4. Cold start: `--cold-runs` times each without and with the classifier,
//!    the time from spawning `hallmark serve` to the first 200 from
//!    `/readyz`.
//!
//! The load average before and after is printed: the machine is shared, so
//! numbers taken under load are not comparable.

#[path = "../tests/serve_support/http.rs"]
mod http;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    bin: PathBuf,
    src: PathBuf,
    dir: PathBuf,
    files: usize,
    clients: usize,
    seconds: f64,
    scan_repeat: usize,
    cold_runs: usize,
    no_classifier: bool,
    skip_load: bool,
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The release binary when built, else the dev one (optimised too: see
    // Cargo.toml); scan and serve are always measured with the same one.
    let release = root.join("target/release/hallmark");
    let mut a = Args {
        bin: if release.is_file() {
            release
        } else {
            root.join("target/debug/hallmark")
        },
        // `../shared` beside a clone, `../../shared` beside a worktree.
        src: ["../shared", "../../shared"]
            .iter()
            .map(|s| root.join(s).join("data/cls/real/digicam_corpus"))
            .find(|p| p.is_dir())
            .unwrap_or_else(|| root.join("../shared/data/cls/real/digicam_corpus")),
        dir: std::env::temp_dir().join("hallmark-bench-serve"),
        files: 48,
        clients: 32,
        seconds: 60.0,
        scan_repeat: 4,
        cold_runs: 5,
        no_classifier: false,
        skip_load: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--bin" => a.bin = value()?.into(),
            "--src" => a.src = value()?.into(),
            "--dir" => a.dir = value()?.into(),
            "--files" => a.files = num(value()?)? as usize,
            "--clients" => a.clients = num(value()?)? as usize,
            "--seconds" => a.seconds = num(value()?)?,
            "--scan-repeat" => a.scan_repeat = num(value()?)? as usize,
            "--cold-runs" => a.cold_runs = num(value()?)? as usize,
            "--no-classifier" => a.no_classifier = true,
            "--skip-load" => a.skip_load = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !a.bin.is_file() {
        return Err(format!(
            "{} not found: build it first with `cargo build` (or pass --bin)",
            a.bin.display()
        ));
    }
    Ok(a)
}

/// 1-megapixel JPEG q90 copies of the source photos (made once).
fn corpus(a: &Args) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(&a.dir).map_err(|e| e.to_string())?;
    let mut src: Vec<PathBuf> = std::fs::read_dir(&a.src)
        .map_err(|e| format!("{}: {e}", a.src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| hallmark::scan::has_image_extension(p))
        .collect();
    src.sort();
    if src.is_empty() {
        return Err(format!("no photos in {}", a.src.display()));
    }
    let mut out = Vec::new();
    for i in 0..a.files {
        let name = a.dir.join(format!("p{i:03}-1mp.jpg"));
        if !name.exists() {
            let img = image::open(&src[i % src.len()])
                .map_err(|e| e.to_string())?
                .to_rgb8();
            let aspect = img.width() as f64 / img.height() as f64;
            let h = (1e6 / aspect).sqrt().round() as u32;
            let w = (h as f64 * aspect).round() as u32;
            let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
            let f = std::fs::File::create(&name).map_err(|e| e.to_string())?;
            image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(f), 90)
                .encode_image(&small)
                .map_err(|e| e.to_string())?;
        }
        out.push(name);
    }
    Ok(out)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Peak resident set (VmHWM) of a live process, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn engine_flags(no_classifier: bool) -> Vec<&'static str> {
    if no_classifier {
        vec!["--no-classifier"]
    } else {
        vec![]
    }
}

/// `hallmark scan - --jobs 2` over the files, `repeat` times each.
fn baseline(a: &Args, files: &[PathBuf]) -> Result<(f64, f64, usize), String> {
    let out = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(&a.bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "-", "--jobs", "2", "-q", "-o"])
        .arg(out.path().join("scan.jsonl"))
        .args(engine_flags(a.no_classifier))
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let mut list = String::new();
    for _ in 0..a.scan_repeat {
        for f in files {
            list.push_str(&format!("{}\n", f.display()));
        }
    }
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin
        .write_all(list.as_bytes())
        .map_err(|e| e.to_string())?;
    drop(stdin);
    let pid = child.id();
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        peak = peak.max(peak_rss_mib(pid).unwrap_or(0.0));
        std::thread::sleep(Duration::from_millis(50));
    };
    let secs = t.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("scan failed: {status}"));
    }
    let lines = std::fs::read_to_string(out.path().join("scan.jsonl"))
        .map_err(|e| e.to_string())?
        .lines()
        .count();
    Ok((lines as f64 / secs, peak, lines))
}

struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Start `hallmark serve` on a free port; returns it once `/readyz` is 200,
/// with the seconds from spawn to ready.
fn serve(a: &Args, no_classifier: bool, extra: &[&str]) -> Result<(Served, f64), String> {
    let t = Instant::now();
    let mut child = Command::new(&a.bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(engine_flags(no_classifier))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let addr: SocketAddr = loop {
        let line = lines
            .next()
            .ok_or("the server exited before listening")?
            .map_err(|e| e.to_string())?;
        if line.contains("\"event\":\"listening\"") {
            let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            break v["addr"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or("no addr in the listening line")?;
        }
    };
    // Drain the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let served = Served { child, addr };
    loop {
        if let Ok(mut c) = http::Conn::open(addr, Duration::from_secs(5)) {
            if let Ok(r) = c.send("GET", "/readyz", &[], &[]) {
                if r.status == 200 {
                    break;
                }
            }
        }
        if t.elapsed() > Duration::from_secs(60) {
            return Err("not ready after 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((served, t.elapsed().as_secs_f64()))
}

struct ClientResult {
    latencies: Vec<f64>,
    errors: Vec<String>,
}

fn load(a: &Args, files: &[PathBuf], addr: SocketAddr) -> Result<(f64, Vec<ClientResult>), String> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        files
            .iter()
            .map(|f| std::fs::read(f).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let t = Instant::now();
    let handles: Vec<_> = (0..a.clients)
        .map(|k| {
            let bodies = Arc::clone(&bodies);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut r = ClientResult {
                    latencies: Vec::new(),
                    errors: Vec::new(),
                };
                let mut conn = None;
                let mut i = k * 7;
                while !stop.load(Ordering::Relaxed) {
                    let body = &bodies[i % bodies.len()];
                    i += 1;
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match http::Conn::open(addr, Duration::from_secs(120)) {
                            Ok(c) => conn.insert(c),
                            Err(e) => {
                                r.errors.push(format!("connect: {e}"));
                                std::thread::sleep(Duration::from_millis(100));
                                continue;
                            }
                        },
                    };
                    let t0 = Instant::now();
                    match c.send("POST", "/v1/check", &[("Content-Type", "image/jpeg")], body) {
                        Ok(resp) if resp.status == 200 => {
                            r.latencies.push(t0.elapsed().as_secs_f64())
                        }
                        Ok(resp) => r.errors.push(format!("HTTP {}", resp.status)),
                        Err(e) => {
                            r.errors.push(format!("io: {e}"));
                            conn = None;
                        }
                    }
                }
                r
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(a.seconds));
    stop.store(true, Ordering::Relaxed);
    let results: Vec<ClientResult> = handles
        .into_iter()
        .map(|h| h.join().map_err(|_| "a client thread panicked".to_string()))
        .collect::<Result<_, _>>()?;
    Ok((t.elapsed().as_secs_f64(), results))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> Result<(), String> {
    let a = parse_args()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "serve benchmark: {} ({cores} cores), load average at start {}",
        a.bin.display(),
        loadavg()
    );
    let classifier = if a.no_classifier {
        "off"
    } else {
        "on (default)"
    };

    if !a.skip_load {
        let files = corpus(&a)?;
        let bytes: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "files: {} JPEGs of 1.0 MP, {:.0} KB average, in {}; classifier {classifier}",
            files.len(),
            bytes as f64 / files.len() as f64 / 1e3,
            a.dir.display()
        );

        let (scan_fps, scan_rss, scanned) = baseline(&a, &files)?;
        println!(
            "\nscan --jobs 2: {scanned} files, {scan_fps:.2} files/s (process start and model load included), peak RSS {scan_rss:.0} MiB"
        );

        let (server, _) = serve(&a, a.no_classifier, &["--workers", "2"])?;
        let pid = server.child.id();
        let (secs, results) = load(&a, &files, server.addr)?;
        let rss = peak_rss_mib(pid).unwrap_or(f64::NAN);
        drop(server);
        let mut lat: Vec<f64> = results.iter().flat_map(|r| r.latencies.clone()).collect();
        lat.sort_by(f64::total_cmp);
        let mut errors: Vec<String> = results.iter().flat_map(|r| r.errors.clone()).collect();
        errors.sort();
        let ok = lat.len();
        let rps = ok as f64 / secs;
        println!(
            "\nserve, {} clients for {secs:.0} s on POST /v1/check: {ok} answered 200, {} errors",
            a.clients,
            errors.len()
        );
        if !errors.is_empty() {
            errors.dedup();
            println!("  errors: {}", errors.join(", "));
        }
        println!(
            "  throughput {rps:.2} requests/s ({:.0}% of scan --jobs 2)",
            100.0 * rps / scan_fps
        );
        println!(
            "  latency s: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            percentile(&lat, 50.0),
            percentile(&lat, 90.0),
            percentile(&lat, 99.0),
            percentile(&lat, 100.0)
        );
        println!("  server peak RSS {rss:.0} MiB");
    }

    for (label, no_cls) in [
        ("without the classifier", true),
        ("with the classifier", false),
    ] {
        let mut times = Vec::new();
        for _ in 0..a.cold_runs {
            let (server, secs) = serve(&a, no_cls, &[])?;
            drop(server);
            times.push(secs);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "\ncold start to ready {label}: median {:.3} s, max {:.3} s ({} runs)",
            percentile(&times, 50.0),
            percentile(&times, 100.0),
            times.len()
        );
    }
    println!("\nload average at end {}", loadavg());
    Ok(())
}
