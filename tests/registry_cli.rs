//! End-to-end: `sign --watermark --registry`, `registry add|stats`,
//! `recover` and `check --registry`, with the real binary, on both
//! registry backends; crash safety of signing with a registry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod registry_support;

use std::path::Path;
use std::process::Output;

use registry_support::*;

fn hallmark(dir: &Path, args: &[&str]) -> Output {
    let mut c = assert_cmd::Command::cargo_bin("hallmark").unwrap();
    c.current_dir(dir)
        .env_remove("HALLMARK_REGISTRY")
        .args(args);
    c.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `sign INPUT -o OUTPUT --key KEY [FLAGS...] --registry REG`.
fn sign_argv<'a>(
    input: &'a str,
    output: &'a str,
    key: &'a str,
    flags: &[&'a str],
    reg: &'a str,
) -> Vec<&'a str> {
    let mut v = vec!["sign", input, "-o", output, "--key", key];
    v.extend_from_slice(flags);
    v.extend_from_slice(&["--registry", reg]);
    v
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// Sign, strip, recover and check against the registry `reg`.
fn round_trip(reg: &str) {
    let s = signed();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("src.png");
    textured(512, 384, 77).save(&src).unwrap();
    let out = d.join("signed.png");
    let key = s.key.to_string_lossy().to_string();
    let argv = sign_argv(
        "src.png",
        "signed.png",
        &key,
        &["--ai-generated", "--watermark"],
        reg,
    );
    let o = hallmark(d, &argv);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("registry     recorded in"),
        "{}",
        text(&o)
    );
    let id = text(&o)
        .lines()
        .find_map(|l| l.strip_prefix("manifest id  "))
        .unwrap()
        .to_string();

    // Recording again is a no-op.
    let o = hallmark(d, &["registry", "add", "signed.png", "--registry", reg]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).starts_with("known"), "{}", text(&o));

    // Strip the manifest: a plain JPEG of the pixels.
    let img = image::open(&out).unwrap().to_rgb8();
    img.save_with_format(d.join("stripped.jpg"), image::ImageFormat::Jpeg)
        .unwrap();
    let trust = s.trust.to_string_lossy().to_string();
    let recover = [
        "recover",
        "stripped.jpg",
        "--registry",
        reg,
        "--trust",
        &trust,
    ];
    let o = hallmark(d, &[&recover[..], &["--json"]].concat());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["recovered"]["manifest_id"], id.as_str(), "{v}");
    assert_eq!(v["recovered"]["via"], "watermark");
    assert_eq!(v["recovered"]["manifest"]["trusted"], true, "{v}");
    let o = hallmark(d, &recover);
    let t = text(&o);
    assert!(
        t.contains("not this file's own manifest") && t.contains("watermark payload 0x"),
        "{t}"
    );

    // check folds it in: the stripped copy of a signed AI image is AI-generated.
    let o = hallmark(
        d,
        &[
            "check",
            "stripped.jpg",
            "--registry",
            reg,
            "--trust",
            &trust,
            "--json",
            "--no-classifier",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["verdict"], "ai_generated", "{v}");
    assert_eq!(v["evidence"][0]["kind"], "recovered", "{v}");
    assert!(
        v["evidence"][0]["finding"]
            .as_str()
            .unwrap()
            .contains("watermark payload 0x"),
        "{v}"
    );
    assert_eq!(v["recovered"]["manifest_id"], id.as_str());

    // An unrelated image: exit 1.
    textured(400, 300, 5).save(d.join("other.png")).unwrap();
    let o = hallmark(d, &["recover", "other.png", "--registry", reg]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("no credentials found"), "{}", text(&o));

    let o = hallmark(d, &["registry", "stats", "--registry", reg, "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(json(&o)["records"], 1);
}

#[test]
fn sqlite_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&dir.path().join("reg.sqlite").to_string_lossy());
}

#[test]
fn postgres_round_trip() {
    round_trip(&fresh_postgres_url());
}

#[test]
fn registry_add_repairs_a_file_signed_without_the_registry() {
    let s = signed();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reg = d.join("r.sqlite").to_string_lossy().to_string();
    let files: Vec<String> = s
        .durable
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    let mut args = vec!["registry", "add", "--registry", reg.as_str()];
    args.extend(files.iter().map(String::as_str));
    let o = hallmark(d, &args);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(text(&o).matches("added").count(), 3, "{}", text(&o));
    let img = image::open(&s.durable[1]).unwrap().to_rgb8();
    img.save_with_format(d.join("s.jpg"), image::ImageFormat::Jpeg)
        .unwrap();
    let o = hallmark(d, &["recover", "s.jpg", "--registry", &reg]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // Unsigned files are refused (exit 2), the others still recorded.
    let unsigned = s.unsigned.to_string_lossy().to_string();
    let plain = s.plain.to_string_lossy().to_string();
    let o = hallmark(
        d,
        &["registry", "add", "--registry", &reg, &unsigned, &plain],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("no C2PA manifest"), "{}", text(&o));
    assert!(text(&o).contains("added"), "{}", text(&o));
}

/// Recording happens before the output is written: when it fails (here
/// after the image was watermarked and signed, on a locked registry), there
/// is no signed file without a record: no orphan, no temporary file.
#[test]
fn signing_into_a_failing_registry_writes_no_output() {
    let s = signed();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    textured(400, 300, 9).save(d.join("in.png")).unwrap();
    let key = s.key.to_string_lossy().to_string();
    let plain = s.plain.to_string_lossy().to_string();
    let o = hallmark(d, &["registry", "add", "--registry", "r.sqlite", &plain]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let lock = rusqlite::Connection::open(d.join("r.sqlite")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let o = hallmark(
        d,
        &sign_argv("in.png", "out.png", &key, &["--watermark"], "r.sqlite"),
    );
    lock.execute_batch("ROLLBACK").unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("locked"), "{}", text(&o));
    assert!(!d.join("out.png").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".hallmark-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A corrupt registry is refused before anything is signed.
    std::fs::write(d.join("bad.sqlite"), vec![7u8; 4096]).unwrap();
    let o = hallmark(d, &sign_argv("in.png", "out.png", &key, &[], "bad.sqlite"));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(!d.join("out.png").exists());
}

#[test]
fn registry_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = hallmark(d, &["recover", "x.png", "--registry", "missing.sqlite"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o).contains("no registry at missing.sqlite"),
        "{}",
        text(&o)
    );
    std::fs::write(d.join("corrupt.sqlite"), vec![1u8; 4096]).unwrap();
    let o = hallmark(d, &["registry", "stats", "--registry", "corrupt.sqlite"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("corrupt"), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).lines().count(),
        1,
        "{}",
        text(&o)
    );
}

/// A full disk, simulated with a file-size limit (writes past it fail, as
/// they do when the disk is full; the signal is ignored so the write
/// returns an error): recording fails with one line and exit 2, `sign
/// --registry` writes no output, and what was recorded before stays.
#[test]
fn a_full_disk_fails_cleanly() {
    let s = signed();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = s.plain.to_string_lossy().to_string();
    let o = hallmark(d, &["registry", "add", "--registry", "r.sqlite", &plain]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    textured(400, 300, 9).save(d.join("in.png")).unwrap();
    // A file-size limit of 32 KiB: the registry file (already larger) can
    // be read, but its write-ahead log cannot take a record.
    let limit_kib = 32;
    let full = |args: &[&str]| -> Output {
        std::process::Command::new("bash")
            .current_dir(d)
            .env_remove("HALLMARK_REGISTRY")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {limit_kib}; exec \"$0\" \"$@\""
            ))
            .arg(assert_cmd::cargo::cargo_bin("hallmark"))
            .args(args)
            .output()
            .unwrap()
    };
    let durable = s.durable[0].to_string_lossy().to_string();
    let o = full(&["registry", "add", "--registry", "r.sqlite", &durable]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("registry r.sqlite") && err.contains("disk"),
        "{err}"
    );
    let key = s.key.to_string_lossy().to_string();
    let o = full(&sign_argv(
        "in.png",
        "out.png",
        &key,
        &["--watermark"],
        "r.sqlite",
    ));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(!d.join("out.png").exists());
    let o = hallmark(
        d,
        &["registry", "stats", "--registry", "r.sqlite", "--json"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(json(&o)["records"], 1);
}
