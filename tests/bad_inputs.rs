//! The `tests/bad/` corpus: every malformed file gives a clear error from the
//! one decoder, never a panic. Commands that read images add themselves to
//! `COMMANDS` as they land.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::PathBuf;

use hallmark::media::{decode_file, Limits};

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "corpus shrank: {files:?}");
    files
}

#[test]
fn decoder_rejects_every_bad_file_with_a_reason() {
    for path in corpus() {
        let err = decode_file(&path, &Limits::default()).expect_err(&path.display().to_string());
        let msg = err.to_string();
        assert!(
            !msg.is_empty() && !msg.contains('\n'),
            "{}: {msg:?}",
            path.display()
        );
    }
}

#[test]
fn huge_dimensions_are_a_limits_error() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad/huge-dimensions.png");
    let err = decode_file(&path, &Limits::default()).unwrap_err();
    assert!(matches!(err, hallmark::Error::Limits(_)), "{err:?}");
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let err = decode_file(
        std::path::Path::new("/no/such/file.png"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/no/such/file.png"), "{err}");
}
