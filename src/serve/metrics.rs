//! Prometheus metrics (text exposition format 0.0.4 at `GET /metrics`):
//!
//! - `hallmark_http_requests_total{route, method, status}`
//! - `hallmark_http_request_duration_seconds{route}` (histogram)
//! - `hallmark_http_errors_total{kind}` (the `kind` of every error answer)
//! - `hallmark_http_requests_in_flight`, `hallmark_uploads_waiting`
//!   (admitted uploads waiting for a worker), `hallmark_ready`
//!
//! `route` is the matched route template (`/v1/manifests/{id}`), or
//! `unmatched`, so label cardinality stays bounded whatever clients send.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
}

/// Labels of the error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The error `kind`.
    pub kind: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency.
    pub latency: Family<RouteLabels, Histogram>,
    /// Error answers by kind.
    pub errors: Family<KindLabels, Counter>,
    /// Requests being handled.
    pub in_flight: Gauge,
    /// Admitted uploads waiting for a worker.
    pub waiting: Gauge,
    /// 1 once the engines are loaded and the server is not draining.
    pub ready: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~65 s, doubling.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 17,
    ))
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hallmark");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let errors = Family::<KindLabels, Counter>::default();
        let in_flight = Gauge::default();
        let waiting = Gauge::default();
        let ready = Gauge::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response",
            latency.clone(),
        );
        registry.register("http_errors", "Error answers by kind", errors.clone());
        registry.register(
            "http_requests_in_flight",
            "Requests being handled",
            in_flight.clone(),
        );
        registry.register(
            "uploads_waiting",
            "Admitted uploads waiting for a worker",
            waiting.clone(),
        );
        registry.register(
            "ready",
            "1 when the engines are loaded and the server is not draining",
            ready.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            in_flight,
            waiting,
            ready,
        }
    }

    /// Record one answered request.
    pub fn observe(
        &self,
        route: &str,
        method: &str,
        status: u16,
        seconds: f64,
        kind: Option<&str>,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
        if let Some(kind) = kind {
            self.errors
                .get_or_create(&KindLabels {
                    kind: kind.to_string(),
                })
                .inc();
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
