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

/// Median times of `f` and `g`, run alternately.
fn time_pair(runs: usize, mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    f();
    g();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        f();
        a.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        g();
        b.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (median(a), median(b))
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
        "{:<9} {:>5} | {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8}",
        "file",
        "MB",
        "hm sign",
        "sdk sign",
        "hm mem",
        "sdk mem",
        "hm verif",
        "sdk read",
        "hm mem",
        "sdk mem",
        "tool sgn",
        "tool rd"
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

        // hallmark and the bare SDK alternate run by run, so load from
        // other processes hits both alike.
        let sdk_out = d.join(format!("sdk-{name}"));
        let (hm_sign, sdk_sign_file) = time_pair(
            runs,
            || {
                let _ = provenance::sign(&input, &out, &opts).expect("sign");
            },
            || {
                let b = std::fs::read(&input).expect("read");
                std::fs::write(&sdk_out, sdk_sign(&b, mime, &cert, &key)).expect("write");
            },
        );
        let (hm_bytes, sdk_sign_ms) = time_pair(
            runs,
            || {
                let _ = provenance::sign_bytes(&bytes, Some(name), &opts).expect("sign");
            },
            || {
                let _ = sdk_sign(&bytes, mime, &cert, &key);
            },
        );
        let report = verifier.verify_path(&out).expect("verify");
        assert!(report.trusted, "{report:#?}");
        let signed = std::fs::read(&out).expect("read");
        assert_eq!(
            sdk_read(&signed, mime, trust.anchors_pem()),
            c2pa::ValidationState::Trusted
        );
        let (hm_verify, sdk_read_ms) = time_pair(
            runs,
            || {
                let _ = verifier.verify_path(&out).expect("verify");
            },
            || {
                let _ = sdk_read(
                    &std::fs::read(&out).expect("read"),
                    mime,
                    trust.anchors_pem(),
                );
            },
        );
        let (hm_verify_mem, sdk_read_mem) = time_pair(
            runs,
            || {
                let _ = verifier.verify_bytes(&signed, None).expect("verify");
            },
            || {
                let _ = sdk_read(&signed, mime, trust.anchors_pem());
            },
        );

        let (tool_sign, tool_read) = match &tool {
            Some(t) => {
                // OpenSSL 3.0 (c2patool's crypto) cannot parse keygen's PKCS#8 v2
                // key file, so hand it the same key as PKCS#8 v1.
                let secret = hallmark::keys::SecretKey::load(&keys.key).expect("key");
                let mut der = vec![
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                der.extend_from_slice(&secret.signing_key().to_bytes());
                let v1 = d.join("tool.key");
                std::fs::write(&v1, pem::encode(&pem::Pem::new("PRIVATE KEY", der))).expect("key");
                let manifest = d.join("manifest.json");
                let def = serde_json::json!({
                    "alg": "Ed25519",
                    "private_key": v1,
                    "sign_cert": keys.certificate,
                    "thumbnail": {"format": "none", "identifier": "none"},
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
            "{:<9} {:>5.2} | {:>8.1} {:>8.1} {:>8.1} {:>8.1} | {:>8.1} {:>8.1} {:>8.1} {:>8.1} | {:>8} {:>8}",
            name,
            bytes.len() as f64 / 1e6,
            hm_sign,
            sdk_sign_file,
            hm_bytes,
            sdk_sign_ms,
            hm_verify,
            sdk_read_ms,
            hm_verify_mem,
            sdk_read_mem,
            tool_sign,
            tool_read
        );
    }
    println!("sign: hm = provenance::sign (read, walk, key checks, sign, fsync'd atomic write);");
    println!(
        "      sdk = the SDK alone, same assertions (read, sign, plain write); mem = in memory"
    );
    println!(
        "verify: hm = Verifier::verify_path (read, walk, SDK validation, exclusion check, report);"
    );
    println!(
        "      sdk = read + SDK Reader; mem = the same on bytes in memory (verify_bytes / Reader)"
    );
    println!("tool = the c2patool process (no thumbnail) on the same files");
    if tool.is_none() {
        println!("c2patool not found (set C2PATOOL=...): its columns are empty");
    }
}
