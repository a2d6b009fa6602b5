//! Reading the image a client sends: the raw request body (any image or
//! binary content type, or none) or the field `file` of a
//! `multipart/form-data` body (what a browser form sends). The body is
//! capped at `max_body` bytes while it streams in (413 past it), so a huge
//! upload is refused without being held in memory. Text and JSON bodies are
//! refused with 415: they are not images.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use std::collections::HashMap;

use super::error::ApiError;

/// The name used when the client gives none.
pub const DEFAULT_NAME: &str = "upload";

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The client's name for it (multipart filename or `?name=`), else
    /// `upload`. Used as the report's `file`.
    pub name: String,
    /// Its bytes.
    pub bytes: Bytes,
}

fn too_large(max_body: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is over the server's limit of {max_body} bytes (--max-body)"),
    )
}

/// 413 at once when `Content-Length` already says the body is too large.
pub fn check_declared_length(headers: &HeaderMap, max_body: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max_body as u64 => Err(too_large(max_body)),
        _ => Ok(()),
    }
}

/// The query string as a map (empty when absent or malformed).
pub fn query_map(uri: &Uri) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The media type of a request (lowercase, parameters dropped).
fn essence(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A file name made safe to echo: no control characters, at most 255 chars.
fn clean_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(255).collect();
    if cleaned.trim().is_empty() {
        DEFAULT_NAME.to_string()
    } else {
        cleaned
    }
}

/// Read the uploaded image from a request.
pub async fn read(req: Request, max_body: usize) -> Result<Upload, ApiError> {
    let media = essence(req.headers());
    let upload = if media == "multipart/form-data" {
        read_multipart(req, max_body).await?
    } else if media == "application/json" || media.starts_with("text/") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "a body of type {media} is not an image: send the image bytes as the body \
                 (e.g. Content-Type: image/jpeg) or as multipart field `file`"
            ),
        ));
    } else {
        let name = query_map(req.uri())
            .get("name")
            .map(|n| clean_name(n))
            .unwrap_or_else(|| DEFAULT_NAME.to_string());
        let bytes = read_body(req, max_body).await?;
        Upload { name, bytes }
    };
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the upload is empty: send the image as the request body or as multipart field `file`",
        ));
    }
    Ok(upload)
}

/// The whole body, at most `max_body` bytes.
pub async fn read_body(req: Request, max_body: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), max_body)
        .await
        .map_err(|e| {
            // http-body's LengthLimitError, somewhere in the chain.
            let mut cause: Option<&dyn std::error::Error> = Some(&e);
            let mut over = false;
            while let Some(c) = cause {
                over |= c.to_string().contains("length limit exceeded");
                cause = c.source();
            }
            if over {
                too_large(max_body)
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })
}

async fn read_multipart(req: Request, max_body: usize) -> Result<Upload, ApiError> {
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {}", e.body_text())))?;
    let field_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max_body)
        } else {
            ApiError::bad_request(format!("bad multipart body: {}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(field_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = clean_name(field.file_name().unwrap_or(DEFAULT_NAME));
        let bytes = field.bytes().await.map_err(field_error)?;
        return Ok(Upload { name, bytes });
    }
    Err(ApiError::bad_request(
        "the multipart body has no field named `file`",
    ))
}
