//! `hallmark scan` end to end: a folder of good and bad files gives one line
//! per file (errors recorded, batch not aborted), the exit code says whether
//! any file failed, `--resume` skips done files and survives a torn line,
//! and `-` reads paths from stdin.

// Test helpers outside #[test] functions unwrap too (clippy.toml covers only test bodies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{hallmark_in as hallmark, root};
use serde_json::Value;

/// A folder: two good images (one in a subfolder), one truncated PNG, one
/// text file that a walk must ignore.
fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let good = root().join("tests/golden/kodim03-crop.png");
    std::fs::copy(&good, dir.path().join("a.png")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(&good, dir.path().join("sub/b.PNG")).unwrap();
    std::fs::copy(
        root().join("tests/bad/truncated.png"),
        dir.path().join("c.png"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    dir
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_file(lines: &[Value]) -> HashMap<String, Value> {
    lines
        .iter()
        .map(|v| {
            let f = v["file"].as_str().unwrap();
            (
                Path::new(f)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                v.clone(),
            )
        })
        .collect()
}

#[test]
fn folder_scan_writes_one_line_per_file_and_records_errors() {
    let data = corpus();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.jsonl");
    let res = hallmark(work.path())
        .args(["scan", "--no-classifier", "--jobs", "2", "-o"])
        .arg(&out)
        .arg(data.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(
        res.status.code(),
        Some(1),
        "one file failed: exit 1\n{stderr}"
    );
    let all = lines(&out);
    assert_eq!(all.len(), 3, "{all:?}");
    let m = by_file(&all);
    assert!(m["a.png"]["verdict"].is_string());
    assert!(m["b.PNG"]["verdict"].is_string());
    assert_eq!(m["c.png"]["error_kind"], "decode");
    assert!(!m.contains_key("notes.txt"));
    // Summary table on stderr.
    assert!(
        stderr.contains("error") && stderr.contains("files/s") && stderr.contains("MB/s"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no progress bar when not a terminal"
    );

    // A second fresh scan refuses to overwrite OUT.
    let res = hallmark(work.path())
        .args(["scan", "-o"])
        .arg(&out)
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("--resume"));
    assert_eq!(lines(&out).len(), 3);
}

#[test]
fn resume_skips_done_files_and_repairs_a_torn_line() {
    let data = corpus();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.jsonl");
    let scan = |extra: &[&str]| {
        hallmark(work.path())
            .args(["scan", "-q", "--no-classifier", "--resume", "-o"])
            .arg(&out)
            .args(extra)
            .arg(data.path())
            .output()
            .unwrap()
    };
    assert_eq!(scan(&[]).status.code(), Some(1));
    assert_eq!(lines(&out).len(), 3);

    // Nothing new: nothing checked, nothing appended, no error lines added.
    let res = scan(&[]);
    assert_eq!(res.status.code(), Some(0));
    assert_eq!(lines(&out).len(), 3);

    // A new file and a crash that tore the last line of OUT.
    std::fs::copy(
        root().join("tests/golden/kodim03-crop.png"),
        data.path().join("d.png"),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&out).unwrap();
    let keep: Vec<&str> = text.lines().collect();
    let torn_file = serde_json::from_str::<Value>(keep[2]).unwrap()["file"]
        .as_str()
        .unwrap()
        .to_string();
    text = format!(
        "{}\n{}\n{}",
        keep[0],
        keep[1],
        &keep[2][..keep[2].len() / 2]
    );
    std::fs::write(&out, text).unwrap();

    scan(&[]);
    let all = lines(&out); // every line parses: the torn one was cut
    assert_eq!(all.len(), 4, "{all:?}");
    let files: Vec<&str> = all.iter().map(|v| v["file"].as_str().unwrap()).collect();
    assert!(
        files.contains(&torn_file.as_str()),
        "the torn line's file was checked again"
    );
    assert!(files.iter().any(|f| f.ends_with("d.png")));
}

#[test]
fn stdin_paths_and_stdout_output() {
    let data = corpus();
    let work = tempfile::tempdir().unwrap();
    let list = format!(
        "{}\n\n{}\n/no/such/file.jpg\n",
        data.path().join("a.png").display(),
        data.path().join("notes.txt").display()
    );
    let res = hallmark(work.path())
        .args(["scan", "-q", "--no-classifier", "--jobs", "1", "-"])
        .write_stdin(list)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let text = String::from_utf8(res.stdout).unwrap();
    let all: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        all.len(),
        3,
        "named files are checked whatever their extension: {text}"
    );
    let m = by_file(&all);
    assert!(m["a.png"]["verdict"].is_string());
    assert_eq!(m["notes.txt"]["error_kind"], "unsupported");
    assert_eq!(m["file.jpg"]["error_kind"], "io");
    assert!(
        res.stderr.is_empty(),
        "-q prints nothing: {}",
        String::from_utf8_lossy(&res.stderr)
    );
}
