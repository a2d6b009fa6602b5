//! End-to-end tests of `hallmark sign` and `hallmark verify`: the real
//! binary in a temporary folder, checking exit codes and JSON fields.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod provenance_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use image::ImageFormat;
use predicates::prelude::*;
use provenance_common::*;

fn hallmark(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("hallmark").unwrap();
    c.current_dir(dir);
    c
}

struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
    trust: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    hallmark(dir.path())
        .args(["keygen", "--name", "desk", "--out", "k"])
        .assert()
        .success();
    let trust = dir.path().join("trust");
    std::fs::create_dir(&trust).unwrap();
    std::fs::copy(dir.path().join("k/desk-ca.crt"), trust.join("desk-ca.crt")).unwrap();
    Setup {
        key: dir.path().join("k/desk.key"),
        trust,
        dir,
    }
}

fn verify_json(s: &Setup, file: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = hallmark(s.dir.path())
        .arg("verify")
        .arg(file)
        .arg("--trust")
        .arg(&s.trust)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), v)
}

/// `hallmark sign INPUT -o OUT --key KEY` (add flags, then run).
fn sign_cmd(s: &Setup, input: &Path, out: &Path) -> Command {
    let mut c = hallmark(s.dir.path());
    c.arg("sign")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--key")
        .arg(&s.key);
    c
}

#[test]
fn sign_then_verify_each_format() {
    let s = setup();
    for (fmt, ext) in [
        (ImageFormat::Jpeg, "jpg"),
        (ImageFormat::Png, "png"),
        (ImageFormat::WebP, "webp"),
    ] {
        let input = write_image(s.dir.path(), &format!("in.{ext}"), fmt, 1);
        let out = s.dir.path().join(format!("out.{ext}"));
        sign_cmd(&s, &input, &out)
            .args([
                "--ai-generated",
                "--author",
                "Ada",
                "--title",
                "T",
                "--gb45438",
                "Example AI",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains("urn:c2pa:"));
        let (code, v) = verify_json(&s, &out, &[]);
        assert_eq!(code, 0, "{v}");
        let m = &v["manifest"];
        assert_eq!(m["present"], true);
        assert_eq!(m["valid"], true);
        assert_eq!(m["trusted"], true);
        assert_eq!(m["state"], "trusted");
        assert_eq!(
            m["digital_source_type"],
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        );
        assert_eq!(m["signer"]["common_name"], "desk");
        assert!(m["signer"]["key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:"));
        assert_eq!(m["gb45438"]["ContentProducer"], "Example AI");
        assert_eq!(m["actions"][0]["action"], "c2pa.created");
        assert!(m["generator"].as_str().unwrap().contains("hallmark"));
    }
}

#[test]
fn human_output_is_short_and_plain() {
    let s = setup();
    let input = write_image(s.dir.path(), "in.jpg", ImageFormat::Jpeg, 2);
    let out = s.dir.path().join("out.jpg");
    sign_cmd(&s, &input, &out)
        .args(["--ai-generated", "--author", "Ada"])
        .assert()
        .success();
    let o = hallmark(s.dir.path())
        .arg("verify")
        .arg(&out)
        .arg("--trust")
        .arg(&s.trust)
        .assert()
        .success();
    let text = String::from_utf8(o.get_output().stdout.clone()).unwrap();
    for want in [
        "trusted signer",
        "Signed by: desk",
        "made by generative AI",
        "AI: yes",
        "Author:    Ada",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(text.lines().count() <= 12, "{text}");
}

#[test]
fn tampered_untrusted_absent_and_sidecar_exit_codes() {
    let s = setup();
    let input = write_image(s.dir.path(), "in.png", ImageFormat::Png, 3);
    let out = s.dir.path().join("out.png");
    sign_cmd(&s, &input, &out).assert().success();
    // Absent: the unsigned input.
    let (code, v) = verify_json(&s, &input, &[]);
    assert_eq!(
        (code, &v["manifest"]["present"]),
        (1, &serde_json::json!(false))
    );
    // Untrusted: an empty trust folder; --require-trusted makes it exit 1.
    let empty = s.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = |extra: &[&str]| {
        hallmark(s.dir.path())
            .arg("verify")
            .arg(&out)
            .arg("--trust")
            .arg(&empty)
            .args(extra)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(run(&["--require-trusted"]).status.code(), Some(1));
    let text = String::from_utf8(run(&[]).stdout).unwrap();
    assert!(text.contains("not in your trust list"), "{text}");
    // Tampered pixels: exit 1 with a reason.
    let mut b = std::fs::read(&out).unwrap();
    let (st, _) = png_chunk(&b, b"IDAT").unwrap();
    b[st + 20] ^= 0x10;
    fix_png_crc(&mut b, st);
    let bad = s.dir.path().join("tampered.png");
    std::fs::write(&bad, &b).unwrap();
    let (code, v) = verify_json(&s, &bad, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["manifest"]["valid"], false);
    assert!(v["manifest"]["reason"]
        .as_str()
        .unwrap()
        .contains("changed"));
    // Sidecar: unchanged copy + OUT.c2pa, verifies.
    let sc = s.dir.path().join("side.png");
    sign_cmd(&s, &input, &sc)
        .arg("--sidecar")
        .assert()
        .success();
    assert!(s.dir.path().join("side.c2pa").is_file());
    let (code, v) = verify_json(&s, &sc, &[]);
    assert_eq!(
        (code, v["manifest"]["source"].as_str()),
        (0, Some("sidecar"))
    );
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let s = setup();
    let bad_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut n = 0;
    for e in std::fs::read_dir(&bad_dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap() == "README.md" {
            continue;
        }
        n += 1;
        let out = hallmark(s.dir.path())
            .arg("verify")
            .arg(&p)
            .arg("--json")
            .output()
            .unwrap();
        // HEIF manifests are read: a HEIF without one is "absent" (exit 1).
        let heif = p.extension().unwrap() == "heic";
        let want = if heif { 1 } else { 2 };
        assert_eq!(out.status.code(), Some(want), "verify {}", p.display());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err.lines().count(),
            usize::from(!heif),
            "{}: {err}",
            p.display()
        );
        let target = s.dir.path().join("o.png");
        let out = sign_cmd(&s, &p, &target).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "sign {}", p.display());
        assert!(!target.exists(), "half-written output for {}", p.display());
    }
    assert!(n >= 8);
    hallmark(s.dir.path())
        .args(["verify", "/no/such.jpg"])
        .assert()
        .code(2);
}

#[test]
fn sign_refuses_overwrites_bad_keys_and_unknown_source_types() {
    let s = setup();
    let input = write_image(s.dir.path(), "in.jpg", ImageFormat::Jpeg, 4);
    let out = s.dir.path().join("out.jpg");
    let sign = |extra: &[&str]| sign_cmd(&s, &input, &out).args(extra).assert();
    sign(&[]).success();
    sign(&[])
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    sign(&["--force"]).success();
    sign(&["--force", "--source-type", "madeUp"])
        .code(2)
        .stderr(predicate::str::contains("unknown IPTC digital source type"));
    // 64x48 cannot carry the watermark: refused, and nothing written.
    std::fs::remove_file(&out).unwrap();
    sign(&["--watermark"])
        .code(2)
        .stderr(predicate::str::contains("too small"));
    assert!(!out.exists());
    hallmark(s.dir.path())
        .arg("sign")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--force", "--key", "k/desk.pub"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key"));
}

#[test]
fn durable_credentials_tie_the_watermark_to_the_manifest() {
    let s = setup();
    let input =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watermark/kodim23-crop.png");
    let out = s.dir.path().join("durable.png");
    let o = sign_cmd(&s, &input, &out)
        .args(["--ai-generated", "--watermark"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("c2pa.soft-binding"), "{text}");
    let (code, v) = verify_json(&s, &out, &[]);
    assert_eq!(code, 0, "{v}");
    let m = &v["manifest"];
    assert_eq!(m["valid"], true);
    let id = m["label"].as_str().unwrap().to_string();
    assert!(text.contains(&id), "{text}");
    let sb = &m["soft_bindings"][0];
    assert_eq!(sb["alg"], "io.hallmark.watermark.1", "{m}");
    let declared = sb["blocks"][0]["value"].as_str().unwrap().to_string();
    assert_eq!(
        declared,
        format!("{:016x}", hallmark::credentials::payload_for(&id))
    );
    // The watermark in the signed pixels carries the declared payload...
    let d = hallmark(s.dir.path())
        .args(["watermark", "detect", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(d.status.code(), Some(0));
    let dv: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(dv["payload"].as_str(), Some(declared.as_str()));
    // `check` fuses the two: the watermark matches the manifest.
    let c = hallmark(s.dir.path())
        .args(["check", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&c.stdout);
    assert!(
        report.contains("matching the manifest's soft binding"),
        "{report}"
    );
    // Watermarking an already signed image keeps its manifest as the parent.
    let again = s.dir.path().join("durable2.png");
    let o = sign_cmd(&s, &out, &again)
        .arg("--watermark")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (code, v2) = verify_json(&s, &again, &[]);
    assert_eq!(code, 0, "{v2}");
    let parent = &v2["manifest"]["ingredients"][0];
    assert_eq!(parent["relationship"], "parentOf", "{v2}");
    assert_eq!(parent["manifest"].as_str(), Some(id.as_str()), "{v2}");
    // ...and survives losing the manifest to a JPEG re-encode.
    let img = image::open(&out).unwrap().to_rgb8();
    let stripped = s.dir.path().join("stripped.jpg");
    img.save_with_format(&stripped, ImageFormat::Jpeg).unwrap();
    let d = hallmark(s.dir.path())
        .args(["watermark", "detect", "--json"])
        .arg(&stripped)
        .output()
        .unwrap();
    let dv: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(dv["payload"].as_str(), Some(declared.as_str()));
}
