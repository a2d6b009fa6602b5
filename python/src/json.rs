//! JSON text to Python objects with the standard library's `json.loads`,
//! so a dict holds exactly what the CLI prints with `--json` (same keys,
//! same numbers, same nulls).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `json.loads(text)`.
pub fn loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    let loads = LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    Ok(loads.bind(py).call1((text,))?.unbind())
}
