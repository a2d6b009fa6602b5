//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! hallmark is built with `ort`'s `load-dynamic` feature: nothing is
//! downloaded at build time and the library is opened at run time. It is
//! looked for in this order (the first that is named wins; a named library
//! that cannot be loaded is an error, not a reason to look further):
//!
//! 1. the explicit path (`--ort-lib`),
//! 2. the `ORT_DYLIB_PATH` environment variable,
//! 3. a `libonnxruntime.so*` beside the executable,
//! 4. the Python `onnxruntime` package's `capi/` folder (PyPI's wheel ships
//!    `libonnxruntime.so.1.xx.y`, with no unversioned name), looked for in
//!    the Python package folders [`super::pyenv`] lists; no program (no
//!    `python3`) is ever started to ask.
//!
//! Otherwise the error tells the user to `pip install onnxruntime`.
//! `ort::init_from` is used because it returns an error where `ort::init`
//! panics; initialisation happens once per process behind a lock, so
//! several threads (the batch scanner) may ask for the runtime at once.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::error::{Error, Result};

/// The environment variable `ort` and hallmark read for the library path.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// What to tell a user who has no ONNX Runtime.
pub const INSTALL_HINT: &str =
    "install it with `pip install onnxruntime` (or run `bash scripts/setup.sh`), \
     or pass --ort-lib / set ORT_DYLIB_PATH to a libonnxruntime shared library";

/// Where the library was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibrarySource {
    /// `--ort-lib`.
    Explicit,
    /// `ORT_DYLIB_PATH`.
    Environment,
    /// Beside the executable.
    BesideExecutable,
    /// The Python `onnxruntime` package.
    Python,
}

/// The loaded ONNX Runtime: one per process.
#[derive(Debug)]
pub struct OrtRuntime {
    env: ort::environment::Environment,
    library: PathBuf,
    source: LibrarySource,
}

impl OrtRuntime {
    /// The ONNX Runtime environment sessions are created in.
    pub fn environment(&self) -> &ort::environment::Environment {
        &self.env
    }

    /// The shared library that was loaded.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// How the library was found.
    pub fn source(&self) -> LibrarySource {
        self.source
    }
}

static RUNTIME: OnceLock<OrtRuntime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Load ONNX Runtime (once per process) and return it.
///
/// `explicit` is `--ort-lib`. Once a library is loaded it stays loaded; a
/// later call naming a different explicit library is an error.
pub fn runtime(explicit: Option<&Path>) -> Result<&'static OrtRuntime> {
    if let Some(rt) = RUNTIME.get() {
        return check_same(rt, explicit);
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(rt) = RUNTIME.get() {
        return check_same(rt, explicit);
    }
    let (library, source) = find_library(explicit)?;
    let env = load(&library)?;
    let rt = RUNTIME.get_or_init(|| OrtRuntime {
        env,
        library,
        source,
    });
    Ok(rt)
}

fn check_same(rt: &'static OrtRuntime, explicit: Option<&Path>) -> Result<&'static OrtRuntime> {
    match explicit {
        Some(p)
            if absolute(p) != rt.library
                && p.canonicalize().ok() != rt.library.canonicalize().ok() =>
        {
            Err(Error::Runtime(format!(
                "already loaded from {} in this process; cannot switch to {}",
                rt.library.display(),
                p.display()
            )))
        }
        _ => Ok(rt),
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn load(library: &Path) -> Result<ort::environment::Environment> {
    let attempt = std::panic::catch_unwind(|| -> Result<ort::environment::Environment> {
        let builder = ort::init_from(library).map_err(|e| {
            Error::Runtime(format!(
                "cannot load {}: {e}; {INSTALL_HINT}",
                library.display()
            ))
        })?;
        builder
            .with_name("hallmark")
            .with_telemetry(false)
            .build()
            .map_err(|e| {
                Error::Runtime(format!(
                    "cannot start ONNX Runtime from {}: {e}",
                    library.display()
                ))
            })
    });
    attempt.unwrap_or_else(|_| {
        Err(Error::Runtime(format!(
            "ONNX Runtime at {} failed while starting; {INSTALL_HINT}",
            library.display()
        )))
    })
}

/// Find the ONNX Runtime library without loading it (see the module docs
/// for the order).
pub fn find_library(explicit: Option<&Path>) -> Result<(PathBuf, LibrarySource)> {
    if let Some(p) = explicit {
        return existing(p, "--ort-lib").map(|p| (p, LibrarySource::Explicit));
    }
    if let Some(v) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        return existing(Path::new(&v), ORT_DYLIB_ENV).map(|p| (p, LibrarySource::Environment));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if let Some(p) = library_in(&dir) {
            return Ok((p, LibrarySource::BesideExecutable));
        }
    }
    if let Some(p) = python_library() {
        return Ok((p, LibrarySource::Python));
    }
    Err(Error::Runtime(format!(
        "the ONNX Runtime shared library was not found (looked at --ort-lib, {ORT_DYLIB_ENV}, \
         beside the executable and in the Python onnxruntime package); {INSTALL_HINT}"
    )))
}

fn existing(p: &Path, what: &str) -> Result<PathBuf> {
    if p.is_file() {
        Ok(absolute(p))
    } else {
        Err(Error::Runtime(format!(
            "{what} names {}, which is not a file; {INSTALL_HINT}",
            p.display()
        )))
    }
}

/// Whether a file name is the ONNX Runtime library, versioned or not
/// (`libonnxruntime.so`, `libonnxruntime.so.1.32.0`, `libonnxruntime.1.32.0.dylib`,
/// `onnxruntime.dll`), and not one of its provider plug-ins.
fn is_library_name(name: &str) -> bool {
    let (pre, suf) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let Some(rest) = name
        .strip_prefix(pre)
        .and_then(|r| r.strip_prefix("onnxruntime"))
    else {
        return false;
    };
    rest == suf
        || rest.starts_with(&format!("{suf}."))
        || (rest.starts_with('.') && rest.ends_with(suf))
}

/// The ONNX Runtime library in a folder: the unversioned name if present,
/// else the highest version.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_library_name)
        })
        .collect();
    found.sort_by_key(|p| version_key(p));
    found.pop()
}

/// Sort key: unversioned names last (preferred), else by numeric version.
fn version_key(p: &Path) -> (bool, Vec<u64>) {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let nums: Vec<u64> = name
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums.is_empty(), nums)
}

/// `onnxruntime/capi/libonnxruntime*` in the Python package folders
/// ([`super::pyenv`]; no program is run).
fn python_library() -> Option<PathBuf> {
    super::pyenv::package_dirs()
        .iter()
        .find_map(|d| library_in(&d.join("onnxruntime").join("capi")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn recognises_versioned_library_names_but_not_plugins() {
        assert!(is_library_name("libonnxruntime.so"));
        assert!(is_library_name("libonnxruntime.so.1.32.0"));
        assert!(!is_library_name("libonnxruntime_providers_shared.so"));
        assert!(!is_library_name("onnxruntime_pybind11_state.so"));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn prefers_the_unversioned_then_the_newest_library() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "libonnxruntime.so.1.9.0",
            "libonnxruntime.so.1.32.0",
            "libonnxruntime_providers_shared.so",
        ] {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        assert_eq!(
            library_in(dir.path()).unwrap(),
            dir.path().join("libonnxruntime.so.1.32.0")
        );
        std::fs::write(dir.path().join("libonnxruntime.so"), b"").unwrap();
        assert_eq!(
            library_in(dir.path()).unwrap(),
            dir.path().join("libonnxruntime.so")
        );
    }

    #[test]
    fn a_missing_explicit_library_is_a_clear_error() {
        let err = find_library(Some(Path::new("/no/such/libonnxruntime.so")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--ort-lib") && err.contains("pip install onnxruntime"),
            "{err}"
        );
    }
}
