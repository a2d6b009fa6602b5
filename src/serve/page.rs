//! The verification web page at `/`: three static assets (`page/index.html`,
//! `page/app.js`, `page/app.css`) compiled into the binary. No CDN, no
//! external fonts, no inline script: it works offline, and the Content
//! Security Policy allows nothing but this origin (plus `blob:` images for
//! the previews the browser makes of the user's own files).
//!
//! The page posts each chosen file to `/v1/check`, then, when the report
//! says a manifest is present, to `/v1/verify` (actions, ingredient chain)
//! and `/v1/manifest/thumbnail`, and renders what comes back.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/app.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /app.js`.
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /app.css`.
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for text in [INDEX, SCRIPT, STYLE] {
            assert!(!text.contains("http://"), "an external http:// reference");
            assert!(!text.contains("https://"), "an external https:// reference");
            assert!(!text.contains("@import"), "a stylesheet import");
        }
        assert!(INDEX.contains("src=\"/app.js\""));
        assert!(INDEX.contains("href=\"/app.css\""));
    }
}
