//! The C2PA Soft Binding Resolution API (shapes of the specification's
//! OpenAPI document) over the manifest registry (`--registry`), so other
//! C2PA tools can recover manifests from hallmark's registry, and the one
//! write endpoint, which needs the API
//! token:
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /v1/matches/byBinding?alg=&value=&maxResults=` | `{"matches": [{"manifestId", "similarityScore"}]}` |
//! | `POST /v1/matches/byBinding` (`{"alg", "value"}`) | the same, for values too long for a URL |
//! | `POST /v1/matches/byContent?alg=&maxResults=` (the asset) | the same: our watermark and fingerprint are read from the pixels |
//! | `GET /v1/manifests/{manifestId}` | the manifest store, `application/c2pa` (404 if unknown) |
//! | `GET /v1/services/supportedAlgorithms` | `{"watermarks": [{"alg"}], "fingerprints": [{"alg"}]}` |
//! | `POST /v1/manifests` (a signed asset; `Authorization: Bearer`) | `{"manifestId", "stored"}`: verified, then recorded |
//!
//! `value` is base64 (standard alphabet; the URL-safe one and a `+` turned
//! into a space by a form encoder are accepted too). `maxResults` is at
//! least 1 (default 10). `endpoint` is never set: every match is served by
//! this server's `/v1/manifests`. Registry calls block, so they run on the
//! blocking pool.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::api::json_ok;
use super::error::ApiError;
use super::state::{App, Engines};
use super::upload::{query_map, read_body};
use crate::credentials::record::Record;
use crate::credentials::recover::{Match, Resolver};
use crate::credentials::Stored;

/// The default and the largest `maxResults`.
const DEFAULT_MAX_RESULTS: usize = 10;
const MAX_RESULTS: usize = 1000;

/// The resolver routes (merged into the main router).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/v1/matches/byBinding",
            get(by_binding_get).post(by_binding_post),
        )
        .route("/v1/matches/byContent", post(by_content))
        .route("/v1/manifests/{manifest_id}", get(manifest))
        .route("/v1/manifests", post(register))
        .route("/v1/services/supportedAlgorithms", get(supported))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchJson {
    manifest_id: String,
    similarity_score: u32,
}

#[derive(Serialize)]
struct Matches {
    matches: Vec<MatchJson>,
}

#[derive(Deserialize)]
struct Query {
    alg: String,
    value: String,
}

fn resolver(engines: &Engines) -> Result<&Resolver, ApiError> {
    engines.checker.resolver().ok_or_else(|| {
        ApiError::unavailable(
            "unavailable",
            "this server has no manifest registry: start it with --registry",
        )
    })
}

fn max_results(q: &std::collections::HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("maxResults") {
        None => Ok(DEFAULT_MAX_RESULTS),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_RESULTS)),
            _ => Err(ApiError::bad_request(format!(
                "maxResults must be an integer of at least 1, not {v:?}"
            ))),
        },
    }
}

/// Decode a base64 binding value.
fn decode_value(v: &str) -> Result<Vec<u8>, ApiError> {
    let v = v.trim().replace(' ', "+");
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(&v).ok())
        .ok_or_else(|| ApiError::bad_request("value is not base64"))
}

fn answer(found: Vec<Match>, limit: usize) -> Response {
    json_ok(&Matches {
        matches: found
            .into_iter()
            .take(limit)
            .map(|m| MatchJson {
                manifest_id: m.manifest_id,
                similarity_score: m.similarity.min(100),
            })
            .collect(),
    })
}

async fn lookup(app: &App, alg: String, value: String, limit: usize) -> Response {
    let value = match decode_value(&value) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let found = app
        .run_blocking(move |e| Ok(resolver(e)?.by_binding(&alg, &value)?))
        .await;
    match found {
        Ok(m) => answer(m, limit),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/matches/byBinding`.
async fn by_binding_get(State(app): State<Arc<App>>, req: Request) -> Response {
    let q = query_map(req.uri());
    let limit = match max_results(&q) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let (Some(alg), Some(value)) = (q.get("alg"), q.get("value")) else {
        return ApiError::bad_request("alg and value are required query parameters")
            .into_response();
    };
    lookup(&app, alg.clone(), value.clone(), limit).await
}

/// `POST /v1/matches/byBinding` with `{"alg", "value"}`.
async fn by_binding_post(State(app): State<Arc<App>>, req: Request) -> Response {
    let limit = match max_results(&query_map(req.uri())) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let body = match read_body(req, 1 << 20).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match serde_json::from_slice::<Query>(&body) {
        Ok(q) => lookup(&app, q.alg, q.value, limit).await,
        Err(e) => ApiError::bad_request(format!(
            "the body must be JSON {{\"alg\": ..., \"value\": base64}}: {e}"
        ))
        .into_response(),
    }
}

/// `POST /v1/matches/byContent`: recover from the pixels.
async fn by_content(State(app): State<Arc<App>>, req: Request) -> Response {
    let q = query_map(req.uri());
    let limit = match max_results(&q) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let alg = q.get("alg").cloned();
    // An unknown algorithm is refused before the upload is read.
    if let Some(a) = &alg {
        if !Resolver::supported_algorithms().iter().any(|s| s.alg == a) {
            return ApiError::bad_request(format!("unsupported soft-binding algorithm {a:?}"))
                .into_response();
        }
    }
    let found = app
        .run_upload(req, move |e, up| {
            Ok(resolver(e)?.by_content_using(&up.bytes, alg.as_deref())?)
        })
        .await;
    match found {
        Ok(m) => answer(m, limit),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/manifests/{manifestId}`: the manifest store bytes.
async fn manifest(
    State(app): State<Arc<App>>,
    Path(manifest_id): Path<String>,
    req: Request,
) -> Response {
    let q = query_map(req.uri());
    if q.get("returnActiveManifest")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return ApiError::bad_request(
            "returnActiveManifest=true is not supported: the whole manifest store is returned",
        )
        .into_response();
    }
    let id = manifest_id.clone();
    let found = app
        .run_blocking(move |e| Ok(resolver(e)?.manifest_store(&id)?))
        .await;
    match found {
        Ok(Some(bytes)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/c2pa")],
            bytes,
        )
            .into_response(),
        Ok(None) => ApiError::not_found(format!("no manifest {manifest_id:?} in the registry"))
            .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Serialize)]
struct AlgJson {
    alg: &'static str,
}

#[derive(Serialize)]
struct Supported {
    watermarks: Vec<AlgJson>,
    fingerprints: Vec<AlgJson>,
}

/// `GET /v1/services/supportedAlgorithms` (empty lists without a registry).
async fn supported(State(app): State<Arc<App>>) -> Response {
    let has_registry = app
        .engines()
        .is_some_and(|e| e.checker.resolver().is_some());
    let algs = if has_registry {
        Resolver::supported_algorithms()
    } else {
        Vec::new()
    };
    let of = |kind: &str| {
        algs.iter()
            .filter(|a| a.kind == kind)
            .map(|a| AlgJson { alg: a.alg })
            .collect()
    };
    json_ok(&Supported {
        watermarks: of("watermark"),
        fingerprints: of("fingerprint"),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    manifest_id: String,
    stored: Stored,
}

/// `POST /v1/manifests`: verify a signed asset and record it (needs the API
/// token). 201 when new, 200 when the registry already had it.
async fn register(State(app): State<Arc<App>>, req: Request) -> Response {
    if let Err(e) = app.authorize_write(req.headers()) {
        return e.into_response();
    }
    let done = app
        .run_upload(req, |e, up| {
            let resolver = resolver(e)?;
            let verifier = e
                .checker
                .verifier()
                .map_err(|why| ApiError::unavailable("unavailable", why))?;
            let prepared = Record::from_signed(&up.bytes, None, verifier, e.checker.limits())?;
            let stored = resolver.registry().insert(&prepared.record)?;
            Ok(Registered {
                manifest_id: prepared.record.manifest_id().to_string(),
                stored,
            })
        })
        .await;
    match done {
        Ok(r) => {
            let mut resp = json_ok(&r);
            if r.stored == Stored::Added {
                *resp.status_mut() = StatusCode::CREATED;
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}
