//! Helpers shared by the benchmark examples (not an example itself: cargo
//! only builds `examples/*.rs` and `examples/*/main.rs`).

use std::path::{Path, PathBuf};

/// The PNG and JPEG files under `dir` (any case of extension), recursively,
/// sorted by file name.
pub fn pool_images(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| {
                        matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg")
                    })
        })
        .map(|e| e.into_path())
        .collect()
}
