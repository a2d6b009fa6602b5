//! What the functions take: a path (`str` or `os.PathLike`) or the image's
//! bytes (`bytes` without a copy; `bytearray` and `memoryview` copied, since
//! Python code could change them while the GIL is released).

use std::borrow::Cow;
use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

/// The name a report gives bytes passed without `name=`.
pub const DEFAULT_NAME: &str = "<bytes>";

/// A file to read, or bytes already read.
pub enum Input<'a> {
    /// Read by the library (which also finds a `.c2pa` sidecar beside it).
    Path(PathBuf),
    /// The image itself, named `name` in the report.
    Bytes { bytes: Cow<'a, [u8]>, name: String },
}

impl<'a> Input<'a> {
    /// Accept a path or bytes; `name` names bytes (a path names itself).
    pub fn extract(obj: &'a Bound<'_, PyAny>, name: Option<String>) -> PyResult<Self> {
        let named = |bytes| Input::Bytes {
            bytes,
            name: name.clone().unwrap_or_else(|| DEFAULT_NAME.to_string()),
        };
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(named(Cow::Borrowed(b.as_bytes())));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(named(Cow::Owned(b.to_vec())));
        }
        if obj.cast::<PyMemoryView>().is_ok() {
            let copy: Vec<u8> = obj.call_method0("tobytes")?.extract()?;
            return Ok(named(Cow::Owned(copy)));
        }
        match obj.extract::<PathBuf>() {
            Ok(p) => Ok(Input::Path(p)),
            Err(_) => Err(PyTypeError::new_err(format!(
                "expected a path (str or os.PathLike) or the image's bytes, got {}",
                obj.get_type().name()?
            ))),
        }
    }

    /// The name the answer gives the input.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}
