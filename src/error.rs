//! The one typed error of the hallmark library.
//!
//! Variants are grouped by who is at fault: the caller's input (I/O, decoding,
//! limits, unsupported formats, bad arguments), key material, and each engine.
//! The binary maps every `Error` to exit code 2; negative findings (an invalid
//! manifest, no watermark) are results, not errors.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- the input's fault -------------------------------------------------
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed image (truncated, corrupt).
    #[error("cannot decode image: {0}")]
    Decode(String),
    /// The image is larger than the decoder's limits allow.
    #[error("image exceeds limits: {0}")]
    Limits(String),
    /// The format is recognised but not supported, or not recognised at all.
    #[error("unsupported format: {0}")]
    Unsupported(String),
    /// An argument or input value is invalid (bad hex payload, bad option).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An output file exists and overwriting was not requested.
    #[error("{} already exists (use --force to overwrite)", .0.display())]
    AlreadyExists(PathBuf),

    // ---- keys and certificates ---------------------------------------------
    /// A key file is missing, malformed or of the wrong algorithm.
    #[error("key: {0}")]
    Key(String),
    /// A certificate could not be made, parsed or used.
    #[error("certificate: {0}")]
    Certificate(String),

    // ---- engines -------------------------------------------------------------
    /// The C2PA SDK reported an error.
    #[error("C2PA: {0}")]
    C2pa(String),
    /// The watermark engine could not embed or detect.
    #[error("watermark: {0}")]
    Watermark(String),
    /// A classifier model is missing, corrupt or does not match its card.
    #[error("model: {0}")]
    Model(String),
    /// ONNX Runtime could not be found, loaded or run.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// The manifest registry failed (opening, locked, full, connection
    /// lost, refused write); the message names the registry.
    #[error("registry {0}")]
    Registry(String),

    // ---- faces ---------------------------------------------------------------
    /// The HTTP server could not start (address in use, a refused address).
    #[error("serve: {0}")]
    Serve(String),
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
