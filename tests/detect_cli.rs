//! `hallmark detect` end to end: the real binary, tiny test models, several
//! files per call, the bad-input corpus, and ONNX Runtime / model errors
//! that must be one clear line and exit 2, never a panic.

// Helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
mod detect_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::assert_exit;
use detect_support::{card, card_variant, models, png, sigmoid};

fn hallmark() -> Command {
    let mut c = Command::cargo_bin("hallmark").unwrap();
    c.env_remove("HALLMARK_MODEL").env_remove("ORT_DYLIB_PATH");
    c
}

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn assert_clean_error(stderr: &[u8]) -> String {
    let err = String::from_utf8_lossy(stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("hallmark: error:"), "{err}");
    err
}

#[test]
fn several_files_give_one_json_object_each() {
    let dir = tempfile::tempdir().unwrap();
    let a = png(dir.path(), "a.png", 64, 64, |_, _| [51; 3]);
    let b = png(dir.path(), "b.png", 300, 200, |_, _| [255; 3]);
    let c = png(dir.path(), "c.png", 4, 4, |_, _| [0; 3]);
    let out = hallmark()
        .args(["detect", "--json", "--model"])
        .arg(card("mean"))
        .args([&a, &b, &c])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3);
    for (j, f) in lines.iter().zip([&a, &b, &c]) {
        assert_eq!(j["file"], f.display().to_string());
        assert_eq!(j["model"]["name"], "test-mean");
        assert_eq!(j["model"]["version"], "0.0.1");
        assert_eq!(j["model_sha256"].as_str().unwrap().len(), 64);
        assert!(j["ms"].as_f64().unwrap() >= 0.0);
        assert!(j.get("error").is_none());
    }
    assert!((lines[0]["score"].as_f64().unwrap() - sigmoid(0.2)).abs() < 1e-5);
    assert_eq!(lines[0]["crops"], 4);
    assert_eq!(lines[0]["label"], "inconclusive");
    assert!((lines[1]["score"].as_f64().unwrap() - sigmoid(1.0)).abs() < 1e-5);
    assert_eq!(lines[1]["label"], "ai");
    assert!(lines[2]["score"].is_null());
    assert_eq!(lines[2]["label"], "inconclusive");
    assert!(lines[2]["reason"].as_str().unwrap().contains("4x4"));
}

#[test]
fn bad_files_are_reported_and_the_others_still_scored() {
    let dir = tempfile::tempdir().unwrap();
    let good = png(dir.path(), "good.png", 32, 32, |_, _| [0; 3]);
    let bad_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut bad: Vec<PathBuf> = std::fs::read_dir(&bad_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "README.md")
        .collect();
    bad.sort();
    bad.push(dir.path().join("missing.png"));
    let out = hallmark()
        .args(["detect", "--json", "--model"])
        .arg(card("mean"))
        .args(&bad)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = assert_clean_error(&out.stderr);
    assert!(
        err.contains(&format!("{} of {} files", bad.len(), bad.len() + 1)),
        "{err}"
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), bad.len() + 1);
    for (j, f) in lines.iter().zip(&bad) {
        assert_eq!(j["file"], f.display().to_string());
        let e = j["error"].as_str().unwrap();
        assert!(!e.is_empty() && !e.contains('\n'), "{f:?}: {e}");
        assert!(j.get("score").is_none());
    }
    assert!(lines[bad.len()]["error"].is_null());
    assert_eq!(lines[bad.len()]["score"], 0.5);
}

#[test]
fn human_output_is_one_line_per_file_and_errors_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let a = png(dir.path(), "a.png", 32, 32, |_, _| [255; 3]);
    let out = hallmark()
        .args(["detect", "--model"])
        .arg(card("mean"))
        .arg(&a)
        .arg(dir.path().join("nope.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "{}: ai (P(AI) 0.731; test-mean 0.0.1, 1 crops",
            a.display()
        )),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("nope.png"), "{stderr}");
}

#[test]
fn model_is_found_via_env_onnx_path_or_folder() {
    let dir = tempfile::tempdir().unwrap();
    let a = png(dir.path(), "a.png", 32, 32, |_, _| [0; 3]);
    let ok = |c: &mut Command| {
        let out = c.arg("--json").arg(&a).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_lines(&out.stdout)[0]["model"]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        ok(hallmark().arg("detect").env("HALLMARK_MODEL", card("rgb"))),
        "test-rgb"
    );
    assert_eq!(
        ok(hallmark()
            .args(["detect", "--model"])
            .arg(models().join("corner.onnx"))),
        "test-corner"
    );
    // A folder with default.json (which names mean.card.json).
    assert_eq!(
        ok(hallmark().args(["detect", "--model"]).arg(models())),
        "test-mean"
    );
    // --model wins over the environment.
    assert_eq!(
        ok(hallmark()
            .args(["detect", "--model"])
            .arg(card("rgb"))
            .env("HALLMARK_MODEL", card("mean"))),
        "test-rgb"
    );
}

#[test]
fn hash_mismatch_is_exit_2_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = card_variant(dir.path(), "mean", |j| j["sha256"] = "0".repeat(64).into());
    let a = png(dir.path(), "a.png", 32, 32, |_, _| [0; 3]);
    let out = hallmark()
        .args(["detect", "--model"])
        .arg(&c)
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = assert_clean_error(&out.stderr);
    assert!(err.contains("SHA-256 mismatch"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_or_invalid_ort_library_is_exit_2_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let a = png(dir.path(), "a.png", 32, 32, |_, _| [0; 3]);
    let not_a_lib = dir.path().join("libonnxruntime.so");
    std::fs::write(&not_a_lib, b"this is not a shared library").unwrap();
    let missing = dir.path().join("missing/libonnxruntime.so");
    let runs: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = hallmark();
                c.args(["detect", "--ort-lib"]).arg(&missing);
                c
            },
            "--ort-lib",
        ),
        (
            {
                let mut c = hallmark();
                c.args(["detect", "--ort-lib"]).arg(&not_a_lib);
                c
            },
            "cannot load",
        ),
        (
            {
                let mut c = hallmark();
                c.arg("detect").env("ORT_DYLIB_PATH", &missing);
                c
            },
            "ORT_DYLIB_PATH",
        ),
        (
            {
                // A real shared library that is not ONNX Runtime.
                let mut c = hallmark();
                c.args(["detect", "--ort-lib", "/lib/x86_64-linux-gnu/libm.so.6"]);
                c
            },
            "OrtGetApiBase",
        ),
    ];
    for (mut cmd, want) in runs {
        let out = cmd
            .arg("--model")
            .arg(card("mean"))
            .arg(&a)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{want}");
        let err = assert_clean_error(&out.stderr);
        if want == "OrtGetApiBase" && !Path::new("/lib/x86_64-linux-gnu/libm.so.6").exists() {
            continue;
        }
        assert!(err.contains(want), "{want}: {err}");
        assert!(err.contains("pip install onnxruntime"), "{err}");
    }
}

#[test]
fn no_files_is_a_usage_error() {
    hallmark().arg("detect").assert().code(2);
}
