//! Shared by the detect tests: tiny ONNX models built once per script
//! version by `scripts/make_test_models.py` (python3 + onnx, no torch), and
//! helpers to write images and card variants.
// Test helpers may fail loudly; each test file uses only some of them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The folder holding the test models (built on first use).
pub fn models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(build_models)
}

fn build_models() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scripts/make_test_models.py");
    let text = std::fs::read(&script).unwrap();
    let key = hex::encode(&Sha256::digest(&text)[..8]);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("detect-models-{key}"));
    if dir.join("default.json").is_file() {
        return dir;
    }
    std::fs::create_dir_all(tmp).unwrap();
    let staging = tempfile::Builder::new()
        .prefix("detect-models-build")
        .tempdir_in(tmp)
        .unwrap();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(staging.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; run `bash scripts/setup.sh`"));
    assert!(
        out.status.success(),
        "make_test_models.py failed (run `bash scripts/setup.sh`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another test binary may have won the race: either copy is fine.
    let staged = staging.keep();
    if std::fs::rename(&staged, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    assert!(dir.join("default.json").is_file());
    dir
}

/// A model's card path.
pub fn card(name: &str) -> PathBuf {
    models().join(format!("{name}.card.json"))
}

/// Copy a model and its card into `dir`, editing the card JSON with `edit`;
/// returns the new card's path.
pub fn card_variant(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let src = models();
    std::fs::copy(
        src.join(format!("{name}.onnx")),
        dir.join(format!("{name}.onnx")),
    )
    .unwrap();
    let mut j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(card(name)).unwrap()).unwrap();
    edit(&mut j);
    let path = dir.join(format!("{name}.card.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    path
}

/// Write an RGB PNG whose pixels are `f(x, y)`.
pub fn png(dir: &Path, name: &str, w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

/// sigmoid
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}
