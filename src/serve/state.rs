//! What every handler shares: the engines (loaded in the background after
//! the socket is bound, so `/healthz` answers at once and `/readyz` says
//! when checks can run), the admission and worker permits, the metrics and
//! the API token's hash.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use prometheus_client::metrics::gauge::Gauge;
use subtle::ConstantTimeEq;
use tokio::sync::{watch, Semaphore};

use super::config::{hash_token, ServeOptions};
use super::error::ApiError;
use super::metrics::Metrics;
use super::observe;
use super::upload::{self, Upload};
use crate::error::{Error, Result};
use crate::report::Checker;

/// The engines every check runs on, loaded once.
pub struct Engines {
    /// Trust store, C2PA verifier, classifier: the same [`Checker`] as
    /// `hallmark check`.
    pub checker: Checker,
}

/// The server's shared state.
pub struct App {
    /// The options it was started with.
    pub opts: ServeOptions,
    /// Prometheus metrics.
    pub metrics: Metrics,
    engines: OnceLock<Arc<Engines>>,
    fatal: watch::Sender<Option<String>>,
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    draining: AtomicBool,
    started: Instant,
    next_id: AtomicU64,
}

impl App {
    /// State for a server with these options (engines not loaded yet).
    pub fn new(opts: ServeOptions) -> Self {
        let workers = opts.workers.max(1);
        App {
            admission: Arc::new(Semaphore::new(workers + opts.queue)),
            workers: Arc::new(Semaphore::new(workers)),
            metrics: Metrics::new(),
            engines: OnceLock::new(),
            fatal: watch::channel(None).0,
            draining: AtomicBool::new(false),
            started: Instant::now(),
            next_id: AtomicU64::new(1),
            opts,
        }
    }

    /// Load the trust store, verifier and classifier (blocking; run on the
    /// blocking pool). A trust folder that cannot be read, or a classifier
    /// that was asked for with `--model` but cannot be loaded, is fatal: the
    /// server logs why and stops.
    pub fn load_engines(&self) -> Result<()> {
        let loaded = Checker::new(&self.opts.check).and_then(|checker| {
            if let (Some(model), Err(why)) = (&self.opts.check.model, checker.detector()) {
                return Err(Error::Model(format!("{}: {why}", model.display())));
            }
            Ok(checker)
        });
        match loaded {
            Ok(checker) => {
                let classifier = match checker.detector() {
                    Ok(d) => d.model_id().to_string(),
                    Err(why) => why.to_string(),
                };
                let _ = self.engines.set(Arc::new(Engines { checker }));
                self.metrics.ready.set(1);
                observe::event(
                    "ready",
                    &[
                        (
                            "ms",
                            format!("{:.0}", self.started.elapsed().as_secs_f64() * 1e3),
                        ),
                        ("classifier", classifier),
                    ],
                );
                Ok(())
            }
            Err(e) => {
                let why = format!("cannot set up the checks: {e}");
                observe::event("fatal", &[("error", why.clone())]);
                self.fatal.send_replace(Some(why.clone()));
                Err(Error::Serve(why))
            }
        }
    }

    /// Resolves with the reason once loading has failed (never otherwise).
    pub async fn fatal(&self) -> String {
        let mut rx = self.fatal.subscribe();
        loop {
            if let Some(why) = rx.borrow_and_update().clone() {
                return why;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The loaded engines, if loading has finished.
    pub fn engines(&self) -> Option<&Arc<Engines>> {
        self.engines.get()
    }

    /// Stop advertising readiness (shutdown has begun).
    pub fn begin_drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.metrics.ready.set(0);
    }

    /// Whether shutdown has begun.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Seconds since the state was made.
    pub fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// A fresh request number for the logs.
    pub fn next_request_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Run `work` on an uploaded image: admit it (or 503 `busy`), read the
    /// body, wait for a worker, run on the blocking pool, all within the
    /// request deadline (or 503 `timeout`).
    pub async fn run_upload<T, F>(&self, req: Request, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Engines, Upload) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let engines = Arc::clone(self.ready_engines()?);
        upload::check_declared_length(req.headers(), self.opts.max_body)?;
        let admitted = Arc::clone(&self.admission)
            .try_acquire_owned()
            .map_err(|_| {
                ApiError::unavailable("busy", "the server is at capacity; retry shortly")
            })?;
        let deadline = self.opts.timeout;
        let job = async move {
            let upload = upload::read(req, self.opts.max_body).await?;
            let permit = {
                let _waiting = Waiting::new(&self.metrics.waiting);
                Arc::clone(&self.workers)
                    .acquire_owned()
                    .await
                    .map_err(|_| ApiError::unavailable("not_ready", "the server is stopping"))?
            };
            tokio::task::spawn_blocking(move || {
                let _held = (admitted, permit);
                work(&engines, upload)
            })
            .await
            .map_err(|e| {
                ApiError::internal(if e.is_panic() {
                    "the check failed unexpectedly on this file (an engine panicked)"
                } else {
                    "the check was cancelled"
                })
            })?
        };
        tokio::time::timeout(deadline, job).await.map_err(|_| {
            ApiError::unavailable(
                "timeout",
                format!(
                    "the request took longer than {} s; retry later or raise --timeout",
                    deadline.as_secs_f64()
                ),
            )
        })?
    }

    /// Run blocking work that needs no upload (a registry lookup) on the
    /// blocking pool, within the request deadline.
    pub async fn run_blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Engines) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let engines = Arc::clone(self.ready_engines()?);
        let job = tokio::task::spawn_blocking(move || work(&engines));
        match tokio::time::timeout(self.opts.timeout, job).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(ApiError::internal("the lookup failed unexpectedly")),
            Err(_) => Err(ApiError::unavailable("timeout", "the lookup took too long")),
        }
    }

    /// The engines, or 503 `not_ready` while they load.
    pub fn ready_engines(&self) -> Result<&Arc<Engines>, ApiError> {
        self.engines().ok_or_else(|| {
            ApiError::unavailable("not_ready", "the server is still loading its engines")
        })
    }

    /// Check a write's `Authorization: Bearer TOKEN` against the stored
    /// hash, in constant time.
    pub fn authorize_write(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.opts.token_sha256 else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "writes_disabled",
                "this server accepts no writes: start it with --api-token-sha256",
            ));
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let ok = presented.is_some_and(|t| bool::from(hash_token(t.as_bytes()).ct_eq(expected)));
        if ok {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid API token is required: Authorization: Bearer TOKEN",
            ))
        }
    }
}

/// Counts an upload as waiting for a worker while it lives.
struct Waiting<'a>(&'a Gauge);

impl<'a> Waiting<'a> {
    fn new(g: &'a Gauge) -> Self {
        g.inc();
        Waiting(g)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Resolves on SIGTERM or Ctrl-C, naming which.
pub async fn signal() -> String {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM".to_string(),
                _ = tokio::signal::ctrl_c() => "SIGINT".to_string(),
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT".to_string()
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT".to_string()
    }
}
