//! Sidecar manifests: a C2PA manifest store kept beside an image as
//! `IMAGE.c2pa` (what `sign --sidecar` writes). One reader for every
//! command, so `verify` and `check` see a sidecar the same way: it is read
//! only when the image carries no embedded store, it may be at most
//! [`MAX_SIDECAR_BYTES`], and a sidecar that exists but cannot be read (too
//! big, unreadable, not a regular file) is an error naming it, never
//! silently ignored.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Largest sidecar read. Manifest stores are kilobytes; with thumbnails and
/// long ingredient chains a few megabytes.
pub const MAX_SIDECAR_BYTES: u64 = 32 << 20;

/// The sidecar path for an image: `IMAGE.c2pa` beside it.
pub fn sidecar_path(image: &Path) -> PathBuf {
    image.with_extension("c2pa")
}

/// The sidecar beside `image`, if there is one: `Ok(None)` when no such
/// path exists, an error when it exists but cannot be read or is too big.
pub fn read_beside(image: &Path) -> Result<Option<Vec<u8>>> {
    let path = sidecar_path(image);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "sidecar manifest {} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > MAX_SIDECAR_BYTES {
        return Err(Error::Limits(format!(
            "sidecar manifest {} is {} bytes, limit is {MAX_SIDECAR_BYTES}",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(&path)
        .map(Some)
        .map_err(|e| Error::io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_present_and_oversized() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("a.png");
        assert_eq!(read_beside(&img).unwrap(), None);
        std::fs::write(dir.path().join("a.c2pa"), b"store").unwrap();
        assert_eq!(read_beside(&img).unwrap().as_deref(), Some(&b"store"[..]));
        let f = std::fs::File::create(dir.path().join("a.c2pa")).unwrap();
        f.set_len(MAX_SIDECAR_BYTES + 1).unwrap();
        assert!(matches!(read_beside(&img), Err(Error::Limits(_))));
        std::fs::remove_file(dir.path().join("a.c2pa")).unwrap();
        std::fs::create_dir(dir.path().join("a.c2pa")).unwrap();
        assert!(matches!(read_beside(&img), Err(Error::InvalidInput(_))));
    }
}
