//! Atomic output files: write to a temporary file in the destination folder,
//! then rename it into place, so a crash or an error never leaves a
//! half-written output behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whether an existing destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace an existing file.
    Allow,
    /// Fail with [`Error::AlreadyExists`] if the destination exists.
    Refuse,
}

/// An I/O error without the temporary file's name (tempfile adds "at path
/// .hallmark-XXXX.tmp" to its messages): the error names the output.
fn plain(e: std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::from(e.kind()),
    }
}

/// Refuse to write `output` over `input` (hallmark never modifies its input).
pub fn refuse_same_file(input: &Path, output: &Path) -> Result<()> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(Error::InvalidInput(format!(
                "{} is both input and output; hallmark never modifies its input",
                input.display()
            )));
        }
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write `bytes` to `path` atomically. The temporary file is created with
/// mode 0600 (tempfile's default on Unix); pass `mode` to set the final mode.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_atomic_with(path, overwrite, None, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], with an explicit Unix mode for the final file.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], overwrite: Overwrite, mode: u32) -> Result<()> {
    write_atomic_with(path, overwrite, Some(mode), |f| f.write_all(bytes))
}

/// Create the output through a callback writing into the temporary file.
pub fn write_atomic_with<F>(
    path: &Path,
    overwrite: Overwrite,
    mode: Option<u32>,
    fill: F,
) -> Result<()>
where
    F: FnOnce(&mut fs::File) -> std::io::Result<()>,
{
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(Error::AlreadyExists(path.to_path_buf()));
    }
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".hallmark-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, plain(e)))?;
    fill(tmp.as_file_mut()).map_err(|e| Error::io(path, plain(e)))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(path, plain(e)))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = mode.unwrap_or(0o644);
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(m))
            .map_err(|e| Error::io(path, plain(e)))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    match overwrite {
        Overwrite::Allow => tmp
            .persist(path)
            .map(|_| ())
            .map_err(|e| Error::io(path, plain(e.error))),
        Overwrite::Refuse => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::AlreadyExists(path.to_path_buf())
            } else {
                Error::io(path, plain(e.error))
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_clobber_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_atomic(&p, b"one", Overwrite::Refuse).unwrap();
        let err = write_atomic(&p, b"two", Overwrite::Refuse).unwrap_err();
        assert!(matches!(err, Error::AlreadyExists(_)));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three", Overwrite::Allow).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"three");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "stray files: {names:?}");
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        let err = write_atomic_with(&p, Overwrite::Allow, None, |_| {
            Err(std::io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn mode_is_applied() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        write_atomic_mode(&p, b"k", Overwrite::Refuse, 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
