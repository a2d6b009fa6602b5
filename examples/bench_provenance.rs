//! Benchmark (not a test): sign and verify a 12 MP JPEG and a 1 MP PNG,
//! median of runs, beside the C2PA SDK called directly with the same
//! manifest and, when found, the reference CLI `c2patool`.
//!
//! Run: `cargo run --example bench_provenance [-- RUNS]` (dev profile is
//! optimised). `C2PATOOL=/path/to/c2patool` selects the CLI (default: on PATH).

// A benchmark, not library code: any failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use hallmark::keys::{keygen, KeygenOptions, TrustStore};
use hallmark::provenance::{self, SignOptions, Verifier};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let _ = f(); // warm up
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let _ = std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn make_image(path: &Path, w: u32, h: u32, format: image::ImageFormat) {
    let mut s = 0x9E37_79B9_u32;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let n = (s & 31) as u8;
        image::Rgb([
            ((x / 7) as u8).wrapping_add(n),
            ((y / 5) as u8).wrapping_add(n),
            ((x + y) / 11) as u8,
        ])
    });
    img.save_with_format(path, format)
        .expect("write test image");
}

/// The raw SDK doing the same work: same assertions, no hallmark checks.
fn sdk_sign(bytes: &[u8], mime: &str, cert: &[u8], key: &[u8]) -> Vec<u8> {
    let signer =
        c2pa::create_signer::from_keys(cert, key, c2pa::SigningAlg::Ed25519, None).expect("signer");
    let mut b = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(serde_json::json!({"title": "bench"}))
        .expect("definition");
    b.add_assertion(
        "c2pa.actions",
        &serde_json::json!({"actions": [{"action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}),
    )
    .expect("actions");
    let mut dest = Cursor::new(Vec::new());
    b.sign(signer.as_ref(), mime, &mut Cursor::new(bytes), &mut dest)
        .expect("sign");
    dest.into_inner()
}

fn sdk_read(bytes: &[u8], mime: &str, anchors: &str) -> c2pa::ValidationState {
    let mut settings = c2pa::Settings::new();
    settings.trust.user_anchors = Some(anchors.to_string());
    let ctx = c2pa::Context::new()
        .with_settings(settings)
        .expect("settings");
    c2pa::Reader::from_context(ctx)
        .with_stream(mime, Cursor::new(bytes))
        .expect("read")
        .validation_state()
}

fn c2patool() -> Option<PathBuf> {
    let p = std::env::var_os("C2PATOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("c2patool"));
    Command::new(&p)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| p)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(9);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let keys = keygen(&KeygenOptions {
        name: "bench".into(),
        out_dir: d.join("keys"),
        ca_key: None,
        force: false,
    })
    .expect("keygen");
    let trust_dir = d.join("trust");
    std::fs::create_dir(&trust_dir).expect("mkdir");
    std::fs::copy(&keys.ca_certificate, trust_dir.join("root.crt")).expect("copy");
    let trust = TrustStore::load_dir(&trust_dir).expect("trust");
    let verifier = Verifier::new(&trust).expect("verifier");
    let cert = std::fs::read(&keys.certificate).expect("cert");
    let key = std::fs::read(&keys.key).expect("key");
    let tool = c2patool();

    println!("runs per figure: {runs} (median), times in ms");
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "file",
        "MB",
        "hm sign",
        "hm bytes",
        "sdk sign",
        "hm verify",
        "sdk read",
        "tool sign",
        "tool read"
    );
    for (name, w, h, fmt, mime) in [
        (
            "12MP.jpg",
            4000,
            3000,
            image::ImageFormat::Jpeg,
            "image/jpeg",
        ),
        ("1MP.png", 1000, 1000, image::ImageFormat::Png, "image/png"),
    ] {
        let input = d.join(name);
        make_image(&input, w, h, fmt);
        let bytes = std::fs::read(&input).expect("read");
        let out = d.join(format!("signed-{name}"));
        let mut opts = SignOptions::new(&keys.key);
        opts.source_type = Some("trainedAlgorithmicMedia".into());
        opts.overwrite = hallmark::atomic::Overwrite::Allow;

        let hm_sign = time_ms(runs, || {
            provenance::sign(&input, &out, &opts).expect("sign")
        });
        let hm_bytes = time_ms(runs, || {
            provenance::sign_bytes(&bytes, Some(name), &opts).expect("sign")
        });
        let sdk_sign_ms = time_ms(runs, || sdk_sign(&bytes, mime, &cert, &key));
        let report = verifier.verify_path(&out).expect("verify");
        assert!(report.trusted, "{report:#?}");
        let hm_verify = time_ms(runs, || verifier.verify_path(&out).expect("verify"));
        let signed = std::fs::read(&out).expect("read");
        assert_eq!(
            sdk_read(&signed, mime, trust.anchors_pem()),
            c2pa::ValidationState::Trusted
        );
        let sdk_read_ms = time_ms(runs, || sdk_read(&signed, mime, trust.anchors_pem()));

        let (tool_sign, tool_read) = match &tool {
            Some(t) => {
                let manifest = d.join("manifest.json");
                let def = serde_json::json!({
                    "alg": "Ed25519",
                    "private_key": keys.key,
                    "sign_cert": keys.certificate,
                    "assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]
                });
                std::fs::write(&manifest, def.to_string()).expect("manifest");
                let tout = d.join(format!("tool-{name}"));
                let sign_ms = time_ms(runs, || {
                    let o = Command::new(t)
                        .arg(&input)
                        .arg("-m")
                        .arg(&manifest)
                        .arg("-o")
                        .arg(&tout)
                        .arg("-f")
                        .output()
                        .expect("c2patool");
                    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                });
                let read_ms = time_ms(runs, || {
                    let o = Command::new(t).arg(&out).output().expect("c2patool");
                    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                });
                (format!("{sign_ms:.1}"), format!("{read_ms:.1}"))
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<16} {:>9.2} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>10} {:>10}",
            name,
            bytes.len() as f64 / 1e6,
            hm_sign,
            hm_bytes,
            sdk_sign_ms,
            hm_verify,
            sdk_read_ms,
            tool_sign,
            tool_read
        );
    }
    println!("hm sign = hallmark::provenance::sign (read, check, sign, atomic write); hm bytes = sign_bytes in memory");
    println!(
        "hm verify = Verifier::verify_path (read, walk, SDK validation, exclusion check, report)"
    );
    if tool.is_none() {
        println!("c2patool not found (set C2PATOOL=...): its columns are empty");
    }
}
