//! `hallmark.Checker`: the library's [`hallmark::report::Checker`] (trust
//! store, C2PA verifier, classifier: loaded once) behind a frozen Python
//! class. Every method releases the GIL while it works, so one `Checker`
//! serves many Python threads at once.

use std::path::PathBuf;

use hallmark::media::read_file;
use hallmark::outputs::{self, DetectOutput, VerifyOutput};
use hallmark::report::{CheckOptions, Checker as Engines, FileError, Report};
use hallmark::scan::Line;
use pyo3::prelude::*;
use serde::Serialize;

use crate::errors;
use crate::input::Input;
use crate::json;

/// Checks images: the fused report (`check`), the manifest (`verify`), the
/// classifier (`detect`) and hallmark's watermark (`watermark_detect`).
#[pyclass(frozen, module = "hallmark")]
pub struct Checker {
    engines: Engines,
}

/// A JSON text, or the error (already a Python exception) that stopped it.
type Answer = PyResult<String>;

impl Checker {
    /// Run `work` without the GIL and turn its answer into a dict.
    fn answer<F>(&self, py: Python<'_>, work: F) -> PyResult<Py<PyAny>>
    where
        F: FnOnce(&Engines) -> Answer + Send,
    {
        let text = py.detach(|| work(&self.engines))?;
        json::loads(py, &text)
    }

    fn report(&self, input: &Input<'_>) -> hallmark::Result<Report> {
        match input {
            Input::Path(p) => self.engines.check_path(p),
            Input::Bytes { bytes, name } => self.engines.check_bytes(name, bytes),
        }
    }

    fn check_text(&self, input: &Input<'_>) -> Answer {
        match self.report(input) {
            Ok(r) => to_json(&r),
            Err(e) => Err(errors::about_file(&input.name(), &e)),
        }
    }
}

#[pymethods]
impl Checker {
    /// Load the trust store, the C2PA verifier and the classifier once.
    ///
    /// trust: folder of trusted root certificates (default: the per-user
    /// folder ~/.config/hallmark/trust when it exists, else trust nothing).
    /// registry: a manifest registry (a SQLite file or postgres://...) that
    /// recovers stripped credentials from watermarks and fingerprints.
    /// classifier: run the pixel classifier (False: its section says
    /// "disabled"). model: a model card or folder (default: the bundled
    /// model). ort_lib: the ONNX Runtime library (default: searched).
    /// encoder: the CLIP encoder a fused model needs (default: searched).
    #[new]
    #[pyo3(signature = (*, trust=None, registry=None, classifier=true, model=None, ort_lib=None, encoder=None))]
    #[allow(clippy::too_many_arguments)] // one per `check` option
    fn new(
        py: Python<'_>,
        trust: Option<PathBuf>,
        registry: Option<PathBuf>,
        classifier: bool,
        model: Option<PathBuf>,
        ort_lib: Option<PathBuf>,
        encoder: Option<PathBuf>,
    ) -> PyResult<Self> {
        let opts = CheckOptions {
            trust,
            model,
            ort_lib,
            encoder,
            no_classifier: !classifier,
            registry: registry.map(|r| r.to_string_lossy().into_owned()),
            ..CheckOptions::default()
        };
        let engines = py
            .detach(|| Engines::new(&opts))
            .map_err(|e| errors::with_context("cannot set up the checks", &e))?;
        Ok(Checker { engines })
    }

    /// The fused report and verdict: the object `hallmark check --json`
    /// prints (and `hallmark scan` writes as one line).
    #[pyo3(signature = (path_or_bytes, *, name=None))]
    fn check(
        &self,
        py: Python<'_>,
        path_or_bytes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let input = Input::extract(path_or_bytes, name)?;
        self.answer(py, |_| self.check_text(&input))
    }

    /// The line `hallmark scan` writes for this input, byte for byte
    /// (without the newline): the report, or `{"file", "error",
    /// "error_kind"}` when the file cannot be checked. Never raises for a
    /// bad file, so a batch goes on.
    #[pyo3(signature = (path_or_bytes, *, name=None))]
    fn scan_line(
        &self,
        py: Python<'_>,
        path_or_bytes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<String> {
        let input = Input::extract(path_or_bytes, name)?;
        py.detach(|| {
            let line = match self.report(&input) {
                Ok(r) => Line::Report(Box::new(r)),
                Err(e) => Line::Error(FileError::new(input.name(), &e)),
            };
            to_json(&line)
        })
    }

    /// The C2PA manifest, its chain and signer: `hallmark verify --json`.
    #[pyo3(signature = (path_or_bytes, *, name=None))]
    fn verify(
        &self,
        py: Python<'_>,
        path_or_bytes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let input = Input::extract(path_or_bytes, name)?;
        self.answer(py, |e| {
            let verifier = e.verifier().map_err(unavailable)?;
            let report = match &input {
                Input::Path(p) => verifier.verify_path(p).map_err(|e| errors::plain(&e)),
                Input::Bytes { bytes, name } => verifier
                    .verify_bytes(bytes, None)
                    .map_err(|e| errors::about_file(name, &e)),
            }?;
            to_json(&VerifyOutput::new(
                input.name(),
                e.trust().describe(),
                report,
            ))
        })
    }

    /// The classifier's score: `hallmark detect --json`.
    #[pyo3(signature = (path_or_bytes, *, name=None))]
    fn detect(
        &self,
        py: Python<'_>,
        path_or_bytes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let input = Input::extract(path_or_bytes, name)?;
        self.answer(py, |e| {
            let detector = e.detector().map_err(unavailable)?;
            let detection = match &input {
                Input::Path(p) => detector.detect_file(p),
                Input::Bytes { bytes, .. } => detector.detect_bytes(bytes),
            }
            .map_err(|err| errors::about_file(&input.name(), &err))?;
            to_json(&DetectOutput::new(input.name(), detection))
        })
    }

    /// hallmark's watermark: `hallmark watermark detect --json`.
    #[pyo3(signature = (path_or_bytes, *, name=None))]
    fn watermark_detect(
        &self,
        py: Python<'_>,
        path_or_bytes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let input = Input::extract(path_or_bytes, name)?;
        self.answer(py, |e| watermark_text(&input, e.limits()))
    }

    /// The trust store in use, in words (as reports name it).
    #[getter]
    fn trust_store(&self) -> String {
        self.engines.trust().describe()
    }

    /// The largest file the decoder limits accept, in bytes (a caller that
    /// reads bytes itself, e.g. from object storage, checks this first).
    #[getter]
    fn max_file_bytes(&self) -> u64 {
        self.engines.limits().max_file_bytes
    }

    /// The classifier's model id, or None when it is not loaded.
    #[getter]
    fn classifier_model(&self) -> Option<String> {
        self.engines
            .detector()
            .ok()
            .map(|d| d.model_id().to_string())
    }

    /// Why the classifier is not loaded, or None when it is.
    #[getter]
    fn classifier_unavailable(&self) -> Option<String> {
        self.engines.detector().err().map(str::to_string)
    }

    fn __repr__(&self) -> String {
        let classifier = match self.engines.detector() {
            Ok(d) => d.model_id().to_string(),
            Err(why) => why.to_string(),
        };
        format!(
            "<hallmark.Checker trust={:?} classifier={:?}>",
            self.engines.trust().describe(),
            classifier
        )
    }
}

/// `watermark detect`'s answer for `input` (shared with the module-level
/// function, which needs no Checker).
pub fn watermark_text(input: &Input<'_>, limits: &hallmark::media::Limits) -> Answer {
    let found = match input {
        Input::Path(p) => read_file(p, limits)
            .and_then(|bytes| outputs::watermark_detect(&bytes, limits))
            .map_err(|e| errors::plain(&e)),
        Input::Bytes { bytes, name } => {
            outputs::watermark_detect(bytes, limits).map_err(|e| errors::about_file(name, &e))
        }
    }?;
    to_json(&found)
}

/// An engine this call needs is not loaded.
fn unavailable(why: &str) -> PyErr {
    errors::raise("unavailable", why.to_string())
}

/// Serialise an answer (cannot fail for these types; reported if it does).
pub fn to_json<T: Serialize>(value: &T) -> Answer {
    serde_json::to_string(value)
        .map_err(|e| errors::raise("other", format!("cannot serialise the answer: {e}")))
}
