//! The Python exceptions: one base class, [`HallmarkError`], and a subclass
//! per kind of fault, each carrying the one-line message the CLI prints
//! (after `hallmark: error: `) and a stable `kind` attribute (the words of
//! `scan`'s `error_kind`, plus those of errors `scan` never meets).

use hallmark::report::FileError;
use hallmark::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    hallmark,
    HallmarkError,
    PyException,
    "Base class of every hallmark error. `kind` is a stable word: io, decode, limits, unsupported, invalid_input, already_exists, key, certificate, c2pa, watermark, model, runtime, registry, unavailable or other."
);
create_exception!(
    hallmark,
    FileIoError,
    HallmarkError,
    "A file could not be read or written (kind io), or an output exists and force was not given (kind already_exists)."
);
create_exception!(
    hallmark,
    DecodeError,
    HallmarkError,
    "The bytes are not a well-formed image: truncated or corrupt (kind decode)."
);
create_exception!(
    hallmark,
    LimitsError,
    HallmarkError,
    "The image or file is larger than the decoder's limits (kind limits)."
);
create_exception!(
    hallmark,
    UnsupportedError,
    HallmarkError,
    "Not a recognised image format, or one hallmark cannot handle (kind unsupported)."
);
create_exception!(
    hallmark,
    InvalidInputError,
    HallmarkError,
    "An argument or input value is invalid (kind invalid_input)."
);
create_exception!(
    hallmark,
    CredentialError,
    HallmarkError,
    "A key or certificate is missing, malformed or unusable (kind key or certificate)."
);
create_exception!(
    hallmark,
    EngineError,
    HallmarkError,
    "An engine failed or is not available: C2PA, watermark, model, ONNX Runtime, registry (kinds c2pa, watermark, model, runtime, registry, unavailable, other)."
);

/// The stable word for an error (`scan`'s `error_kind` where it has one).
pub fn kind(err: &Error) -> &'static str {
    match err {
        Error::AlreadyExists(_) => "already_exists",
        Error::Key(_) => "key",
        Error::Certificate(_) => "certificate",
        Error::C2pa(_) => "c2pa",
        Error::Watermark(_) => "watermark",
        Error::Model(_) => "model",
        Error::Runtime(_) => "runtime",
        Error::Registry(_) => "registry",
        other => FileError::new("", other).error_kind,
    }
}

/// An exception of the class for `kind`, with `message` and `.kind` set.
pub fn raise(kind: &str, message: String) -> PyErr {
    let err = match kind {
        "io" | "already_exists" => FileIoError::new_err(message),
        "decode" => DecodeError::new_err(message),
        "limits" => LimitsError::new_err(message),
        "unsupported" => UnsupportedError::new_err(message),
        "invalid_input" => InvalidInputError::new_err(message),
        "key" | "certificate" => CredentialError::new_err(message),
        _ => EngineError::new_err(message),
    };
    Python::attach(|py| {
        // Setting an attribute on a fresh exception object cannot fail in
        // practice; if it did, the exception would still carry its message.
        let _ = err.value(py).setattr("kind", kind);
    });
    err
}

/// A library error about `file`, worded as `check` words it: one line,
/// naming the file once.
pub fn about_file(file: &str, err: &Error) -> PyErr {
    raise(kind(err), FileError::new(file, err).message())
}

/// A library error with a leading context, as the CLI words it
/// (`cannot set up the checks: ...`).
pub fn with_context(context: &str, err: &Error) -> PyErr {
    let line = err.to_string().replace('\n', " ");
    raise(kind(err), format!("{context}: {line}"))
}

/// An error that is a plain library error (its text already names what it
/// is about, e.g. an I/O error names its path).
pub fn plain(err: &Error) -> PyErr {
    raise(kind(err), err.to_string().replace('\n', " "))
}

/// Register the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HallmarkError", py.get_type::<HallmarkError>())?;
    m.add("FileIoError", py.get_type::<FileIoError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("LimitsError", py.get_type::<LimitsError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("CredentialError", py.get_type::<CredentialError>())?;
    m.add("EngineError", py.get_type::<EngineError>())?;
    Ok(())
}
