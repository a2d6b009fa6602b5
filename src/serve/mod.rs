//! `hallmark serve`: the HTTP API and the verification web page (feature
//! `serve`, on by default), on tokio + axum.
//!
//! The server is a second face on the same library as the CLI: every
//! endpoint calls the function the matching command calls and answers with
//! the same JSON object ([`crate::outputs`], [`crate::report::Report`]).
//!
//! - `POST /v1/check`, `/v1/verify`, `/v1/detect`, `/v1/watermark/detect`:
//!   the image as the raw body or as the multipart field `file`.
//! - `POST /v1/manifest/thumbnail`: the claim thumbnail of an upload's
//!   manifest (the web page shows it).
//! - The C2PA Soft Binding Resolution API over the manifest registry
//!   (`--registry`): `/v1/matches/byBinding`, `/v1/matches/byContent`,
//!   `/v1/manifests/{manifestId}`, `/v1/services/supportedAlgorithms`, and
//!   the token-protected write `POST /v1/manifests` ([`sbr`]).
//! - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus text).
//! - `GET /`: the self-contained web page ([`page`]).
//!
//! # How a request is handled
//! An upload is admitted only while fewer than `workers + queue` uploads are
//! in the building (else 503 + `Retry-After`), so memory stays bounded by
//! that many bodies of at most `max_body` bytes. Its body is read
//! asynchronously, then it waits for one of `workers` permits and runs on
//! tokio's blocking pool (the checks are CPU-bound). The whole request has a
//! deadline (`timeout`); a request past it gets 503 and its work, which
//! cannot be interrupted, still holds its permit until it ends, so a flood
//! of slow files cannot oversubscribe the CPUs. A panic in an engine on a
//! hostile file is a 500 for that request, never the end of the process.
//!
//! # Files
//! - [`config`]: options, defaults and the bind-address policy.
//! - [`state`]: what handlers share (engines, permits, metrics, token).
//! - [`api`]: the endpoints.
//! - [`sbr`]: the Soft Binding Resolution endpoints.
//! - [`upload`]: reading an image from a raw or multipart body.
//! - [`error`]: the `{error, kind}` JSON error and its status codes.
//! - [`metrics`], [`observe`]: Prometheus metrics and one JSON log line per
//!   request.
//! - [`page`]: the web page's assets, compiled in.

pub mod api;
pub mod config;
pub mod error;
pub mod metrics;
pub mod observe;
pub mod page;
pub mod sbr;
pub mod state;
pub mod upload;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::ServeOptions;
use state::App;

use crate::error::{Error, Result};

/// Run the server until SIGTERM or Ctrl-C, then finish the requests in
/// flight and return. Builds its own tokio runtime; blocks the caller.
pub fn run(opts: ServeOptions) -> Result<()> {
    config::check_addr(&opts)?;
    // A panic in an engine is answered 500 (see `state::App::run_upload`);
    // its message becomes one JSON log line like every other.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        observe::event("panic", &[("error", what), ("at", place)]);
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hallmark-serve")
        .max_blocking_threads(opts.workers.max(1) + 4)
        .build()
        .map_err(|e| Error::Serve(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(opts))
}

async fn serve(opts: ServeOptions) -> Result<()> {
    let listener = TcpListener::bind(opts.addr)
        .await
        .map_err(|e| Error::Serve(format!("cannot listen on {}: {e}", opts.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Serve(format!("cannot read the bound address: {e}")))?;
    let app = Arc::new(App::new(opts));
    observe::event(
        "listening",
        &[
            ("addr", local.to_string()),
            ("url", format!("http://{local}/")),
        ],
    );
    let loader = tokio::task::spawn_blocking({
        let app = Arc::clone(&app);
        move || app.load_engines()
    });
    let router = api::router(Arc::clone(&app));
    let shutdown = {
        let app = Arc::clone(&app);
        async move {
            let why = tokio::select! {
                s = state::signal() => s,
                e = app.fatal() => e,
            };
            app.begin_drain();
            observe::event("draining", &[("reason", why)]);
        }
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Serve(format!("server failed: {e}")))?;
    // The loader ends on its own (it only loads files); a failure is fatal.
    let loaded = loader
        .await
        .map_err(|e| Error::Serve(format!("engine loading failed: {e}")))?;
    observe::event("stopped", &[]);
    loaded
}
