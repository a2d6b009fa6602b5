//! Observability: a middleware that counts every request in the metrics and
//! writes one JSON line per request on stderr, plus lifecycle events
//! (`listening`, `ready`, `draining`, `stopped`, `fatal`).
//!
//! A request line holds the time, a request number, method, path (never the
//! query string, never a header, never a byte of the body), the matched
//! route, status, milliseconds, the declared body size and the error kind.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::ErrorKind;
use super::state::App;

/// The current UTC time, RFC 3339 with milliseconds.
fn now() -> String {
    let t = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn write_line(fields: Map<String, Value>) {
    let line = Value::Object(fields).to_string();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Log a lifecycle event with string fields.
pub fn event(name: &str, fields: &[(&str, String)]) {
    let mut m = Map::new();
    m.insert("ts".into(), now().into());
    m.insert("event".into(), name.into());
    for (k, v) in fields {
        m.insert((*k).into(), v.clone().into());
    }
    write_line(m);
}

/// Count, time and log each request.
pub async fn middleware(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = app.next_request_id();
    let method = req.method().to_string();
    let path: String = req.uri().path().chars().take(256).collect();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let bytes_in = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());

    app.metrics.in_flight.inc();
    let response = next.run(req).await;
    app.metrics.in_flight.dec();

    let status = response.status().as_u16();
    let seconds = start.elapsed().as_secs_f64();
    let kind = response.extensions().get::<ErrorKind>().map(|k| k.0);
    app.metrics.observe(&route, &method, status, seconds, kind);

    let mut m = Map::new();
    m.insert("ts".into(), now().into());
    m.insert("event".into(), "request".into());
    m.insert("id".into(), id.into());
    m.insert("method".into(), method.into());
    m.insert("path".into(), path.into());
    m.insert("route".into(), route.into());
    m.insert("status".into(), status.into());
    m.insert("ms".into(), ((seconds * 1e4).round() / 10.0).into());
    if let Some(n) = bytes_in {
        m.insert("bytes_in".into(), n.into());
    }
    if let Some(k) = kind {
        m.insert("kind".into(), k.into());
    }
    write_line(m);
    response
}
