//! `hallmark._native`: the Python binding of the hallmark library (PyO3).
//!
//! A thin face, like the CLI and the HTTP server: every function calls the
//! library function the matching command calls and answers with the same
//! JSON object, turned into a dict. Nothing is reimplemented here. The
//! Python package (`python/hallmark/`) adds the module-level `check`,
//! `verify` and `detect` on top of a cached [`checker::Checker`], type
//! stubs and the distributed scan.
//!
//! - [`checker`]: `hallmark.Checker`, loaded once, safe from many threads
//!   (the GIL is released while it works).
//! - [`input`]: a path or the image's bytes.
//! - [`errors`]: the exception classes and the one-line messages.
//! - [`json`]: JSON text to Python objects.

mod checker;
mod errors;
mod input;
mod json;

use std::path::PathBuf;

use hallmark::atomic::Overwrite;
use hallmark::media::Limits;
use hallmark::outputs;
use hallmark::provenance::SignOptions;
use hallmark::report::FileError;
use hallmark::scan::{self, Line, Work};
use hallmark::watermark::EmbedOptions;
use pyo3::prelude::*;

use input::Input;

/// hallmark's watermark, looked for with the default key and decoder
/// limits: `hallmark watermark detect --json`.
#[pyfunction]
#[pyo3(signature = (path_or_bytes, *, name=None))]
fn watermark_detect(
    py: Python<'_>,
    path_or_bytes: &Bound<'_, PyAny>,
    name: Option<String>,
) -> PyResult<Py<PyAny>> {
    let input = Input::extract(path_or_bytes, name)?;
    let limits = Limits::default();
    let text = py.detach(|| checker::watermark_text(&input, &limits))?;
    json::loads(py, &text)
}

/// Sign `input` into `output` with a C2PA manifest (`hallmark sign`).
/// Returns what was written: output, sidecar, manifest_id, manifest_bytes,
/// signer, ingredients and, with `watermark=True`, the watermark's payload
/// and PSNR; with `registry` (a SQLite file, created if missing, or
/// postgres://...), where the manifest was recorded before `output` was
/// written.
#[pyfunction]
#[pyo3(signature = (
    input, output, *, key, cert=None, ai_generated=false, source_type=None,
    author=None, title=None, parents=Vec::new(), sidecar=false, watermark=false,
    gb45438=None, thumbnail=false, force=false, registry=None
))]
#[allow(clippy::too_many_arguments)] // one per `hallmark sign` option
fn sign(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    key: PathBuf,
    cert: Option<PathBuf>,
    ai_generated: bool,
    source_type: Option<String>,
    author: Option<String>,
    title: Option<String>,
    parents: Vec<PathBuf>,
    sidecar: bool,
    watermark: bool,
    gb45438: Option<String>,
    thumbnail: bool,
    force: bool,
    registry: Option<PathBuf>,
) -> PyResult<Py<PyAny>> {
    if ai_generated && source_type.is_some() {
        return Err(errors::raise(
            "invalid_input",
            "ai_generated=True and source_type cannot be used together".into(),
        ));
    }
    let mut opts = SignOptions::new(key);
    opts.cert = cert;
    opts.source_type = if ai_generated {
        Some("trainedAlgorithmicMedia".into())
    } else {
        source_type
    };
    opts.author = author;
    opts.title = title;
    opts.parents = parents;
    opts.sidecar = sidecar;
    opts.gb45438_producer = gb45438;
    opts.thumbnail = thumbnail;
    opts.overwrite = if force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    let wm = EmbedOptions::default();
    let text = py.detach(|| {
        let signed = outputs::sign(
            &input,
            &output,
            &opts,
            watermark.then_some(&wm),
            registry
                .map(|r| r.to_string_lossy().into_owned())
                .as_deref(),
        )
        .map_err(|e| errors::plain(&e))?;
        checker::to_json(&signed)
    })?;
    json::loads(py, &text)
}

/// Expand files and folders as `hallmark scan` does (folders recursively,
/// in name order, image extensions only, symbolic links not followed).
/// Returns the files, and the `scan` error line of each path that could
/// not be listed.
#[pyfunction]
fn walk(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<(Vec<String>, Vec<String>)> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(errors::raise(
            "invalid_input",
            "'-' (paths from stdin) is not taken here: pass the paths themselves".into(),
        ));
    }
    py.detach(|| {
        let mut files = Vec::new();
        let mut failed = Vec::new();
        for work in scan::inputs(&paths) {
            match work {
                Work::Check(p) => files.push(p.display().to_string()),
                Work::Failed(name, e) => {
                    failed.push(checker::to_json(&Line::Error(FileError::new(name, &e)))?)
                }
            }
        }
        Ok((files, failed))
    })
}

/// Whether `hallmark scan` takes a file found in a folder, by its extension.
#[pyfunction]
fn has_image_extension(path: PathBuf) -> bool {
    scan::has_image_extension(&path)
}

/// The extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<checker::Checker>()?;
    m.add_function(wrap_pyfunction!(watermark_detect, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(walk, m)?)?;
    m.add_function(wrap_pyfunction!(has_image_extension, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    Ok(())
}
