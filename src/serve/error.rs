//! The API's error: JSON `{"error": "...", "kind": "..."}` with a status
//! code that says whose fault it is. `kind` is stable (clients switch on
//! it); `error` is one line for a person.
//!
//! | status | kinds |
//! |---|---|
//! | 400 | `invalid_input` (no file, bad query, bad JSON, bad base64) |
//! | 401 | `unauthorized` (a write without a valid API token) |
//! | 403 | `writes_disabled` (the server has no API token configured) |
//! | 404 | `not_found` (unknown path or manifest id) |
//! | 413 | `body_too_large`, `limits` (decoder limits: too many pixels) |
//! | 415 | `unsupported_media_type` (content type), `unsupported` (image format) |
//! | 422 | `decode` (truncated or corrupt image) |
//! | 500 | `internal` (an engine failed or panicked on this file) |
//! | 503 | `busy` (queue full), `timeout`, `not_ready`, `unavailable` (engine or registry missing); with `Retry-After` |

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine kind.
    pub kind: &'static str,
    /// One line for a person.
    pub message: String,
}

/// The error kind of a response, for metrics and logs (set by
/// [`ApiError`]'s response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind(pub &'static str);

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    kind: &'a str,
}

impl ApiError {
    /// An error with a status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        let message = message.into().replace('\n', " ");
        ApiError {
            status,
            kind,
            message,
        }
    }

    /// 400 `invalid_input`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// 503 with a kind (sent with `Retry-After`).
    pub fn unavailable(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, kind, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<Error> for ApiError {
    /// The input's faults are 4xx; an engine's failure is a 500.
    fn from(e: Error) -> Self {
        let (status, kind) = match &e {
            Error::Decode(_) => (StatusCode::UNPROCESSABLE_ENTITY, "decode"),
            Error::Limits(_) => (StatusCode::PAYLOAD_TOO_LARGE, "limits"),
            Error::Unsupported(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported"),
            Error::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, kind, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: &self.message,
            kind: self.kind,
        })
        .unwrap_or_default();
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r.extensions_mut().insert(ErrorKind(self.kind));
        r
    }
}
