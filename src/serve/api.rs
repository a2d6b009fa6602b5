//! The endpoints. Each upload endpoint calls the library function its CLI
//! command calls and answers with the same JSON object.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::state::App;
use super::{observe, page, sbr, upload};
use crate::comply::{self, Rule};
use crate::outputs::{self, DetectOutput, VerifyOutput};
use crate::provenance;

/// The whole application: routes, body limit, metrics and logs.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/check", post(check))
        .route("/v1/verify", post(verify))
        .route("/v1/detect", post(detect))
        .route("/v1/watermark/detect", post(watermark_detect))
        .route("/v1/manifest/thumbnail", post(thumbnail))
        .route("/v1/comply", post(comply))
        .merge(sbr::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(app.opts.max_body))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            observe::middleware,
        ))
        .with_state(app)
}

/// A 200 JSON answer.
pub fn json_ok<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("cannot encode the answer: {e}")).into_response(),
    }
}

fn answer<T: Serialize>(r: Result<T, ApiError>) -> Response {
    match r {
        Ok(v) => json_ok(&v),
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/check`: the fused report, as `hallmark check --json`.
async fn check(State(app): State<Arc<App>>, req: Request) -> Response {
    answer(
        app.run_upload(req, |e, up| {
            e.checker
                .check_bytes(&up.name, &up.bytes)
                .map_err(ApiError::from)
        })
        .await,
    )
}

/// `POST /v1/verify`: the manifest report, as `hallmark verify --json`.
async fn verify(State(app): State<Arc<App>>, req: Request) -> Response {
    answer(
        app.run_upload(req, |e, up| {
            let verifier = e
                .checker
                .verifier()
                .map_err(|why| ApiError::unavailable("unavailable", why))?;
            let report = verifier.verify_bytes(&up.bytes, None)?;
            Ok(VerifyOutput::new(
                up.name,
                e.checker.trust().describe(),
                report,
            ))
        })
        .await,
    )
}

/// `POST /v1/detect`: the classifier's score, as `hallmark detect --json`.
async fn detect(State(app): State<Arc<App>>, req: Request) -> Response {
    answer(
        app.run_upload(req, |e, up| {
            let detector = e
                .checker
                .detector()
                .map_err(|why| ApiError::unavailable("unavailable", why))?;
            let detection = detector.detect_bytes(&up.bytes)?;
            Ok(DetectOutput::new(up.name, detection))
        })
        .await,
    )
}

/// `POST /v1/watermark/detect`: as `hallmark watermark detect --json`.
async fn watermark_detect(State(app): State<Arc<App>>, req: Request) -> Response {
    answer(
        app.run_upload(req, |e, up| {
            Ok(outputs::watermark_detect(&up.bytes, e.checker.limits())?)
        })
        .await,
    )
}

/// `POST /v1/comply[?rules=gb45438,eu-ai-act]`: the compliance report, as
/// `hallmark comply --json` (both rules by default).
async fn comply(State(app): State<Arc<App>>, req: Request) -> Response {
    let query = upload::query_map(req.uri());
    let rules = match Rule::parse_list(
        query
            .get("rules")
            .map_or("gb45438,eu-ai-act", String::as_str),
    ) {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    answer(
        app.run_upload(req, move |e, up| {
            let verifier = e
                .checker
                .verifier()
                .map_err(|why| ApiError::unavailable("unavailable", why))?;
            let bytes = up.bytes.to_vec();
            Ok(comply::check_bytes(
                &up.name,
                bytes,
                verifier,
                e.checker.limits(),
                &rules,
            )?)
        })
        .await,
    )
}

/// `POST /v1/manifest/thumbnail`: the claim thumbnail of the upload's
/// manifest (the image bytes), or 404 when it has none.
async fn thumbnail(State(app): State<Arc<App>>, req: Request) -> Response {
    let found = app
        .run_upload(req, |_engines, up| Ok(provenance::thumbnail(&up.bytes)?))
        .await;
    match found {
        Ok(Some(t)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, t.format),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            ],
            t.bytes,
        )
            .into_response(),
        Ok(None) => ApiError::not_found("this file's manifest has no thumbnail").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /healthz`: the process is alive.
async fn healthz() -> Response {
    json_ok(&json!({"status": "ok"}))
}

/// `GET /readyz`: 200 once the trust store, verifier and classifier are
/// loaded and the registry (with `--registry`) answers, saying what was
/// loaded; 503 while loading or draining, or while the registry does not
/// answer.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let status = if app.draining() {
        "draining"
    } else if app.engines().is_none() {
        "loading"
    } else {
        "ready"
    };
    let Some(engines) = app.engines().filter(|_| status == "ready") else {
        let body = json!({"ready": false, "status": status});
        let mut r = json_ok(&body);
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return r;
    };
    let registry = app
        .run_blocking(|e| {
            Ok(e.checker.resolver().map(|r| {
                let reg = r.registry();
                (reg.location(), reg.ping().map_err(|e| e.to_string()))
            }))
        })
        .await;
    let registry = match registry {
        Ok(None) => json!({"loaded": false, "reason": "no registry (--registry)"}),
        Ok(Some((location, Ok(())))) => json!({"loaded": true, "location": location}),
        Ok(Some((location, Err(why)))) => {
            let body = json!({"ready": false, "status": "registry_unavailable",
                "registry": {"loaded": false, "location": location, "reason": why}});
            let mut r = json_ok(&body);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return r;
        }
        Err(e) => return e.into_response(),
    };
    let checker = &engines.checker;
    let trust = checker.trust();
    let classifier = match checker.detector() {
        Ok(d) => {
            json!({"loaded": true, "model": d.model_id().to_string(), "sha256": d.model_sha256()})
        }
        Err(why) => json!({"loaded": false, "reason": why}),
    };
    let manifest = match checker.verifier() {
        Ok(_) => json!({"loaded": true}),
        Err(why) => json!({"loaded": false, "reason": why}),
    };
    json_ok(&json!({
        "ready": true,
        "status": status,
        "uptime_s": (app.uptime_s() * 10.0).round() / 10.0,
        "trust": {
            "source": trust.source.as_ref().map(|p| p.display().to_string()),
            "anchors": trust.len(),
            "store": trust.describe(),
        },
        "manifest": manifest,
        "classifier": classifier,
        "registry": registry,
        "limits": {
            "max_body": app.opts.max_body,
            "workers": app.opts.workers,
            "queue": app.opts.queue,
            "timeout_s": app.opts.timeout.as_secs_f64(),
        },
    }))
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn not_found(req: Request) -> Response {
    ApiError::not_found(format!("no such endpoint: {}", req.uri().path())).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
    .into_response()
}
