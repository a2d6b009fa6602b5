//! The C2PA Soft Binding Resolution API of `hallmark serve --registry R`
//! over real HTTP on loopback, against both registry backends (embedded
//! SQLite, and PostgreSQL from `HALLMARK_TEST_POSTGRES`, which
//! `bash scripts/test.sh` provides): lookups by binding (GET and POST, the
//! watermark and the fingerprint), by content (a stripped copy recovers, an
//! unrelated image does not), the manifest store by id, the supported
//! algorithms, /readyz, the token-protected write, and every error as JSON
//! `{error, kind}`; and two servers sharing one PostgreSQL registry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod registry_support;
mod serve_support;

use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use hallmark::credentials::{Registry, FINGERPRINT_ALG, SOFT_BINDING_ALG};
use registry_support::{record, signed};
use serde_json::json;
use serve_support::http::{self, request, Response};
use serve_support::{root, Server};
use sha2::Digest as _;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Percent-encode a query value (base64 has `+`, `/` and `=`).
fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn jpeg(path: &Path, q: u8) -> Vec<u8> {
    let img = image::open(path).unwrap();
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), q);
    img.to_rgb8().write_with_encoder(enc).unwrap();
    out
}

/// Start a server on `spec` trusting the fixtures' CA, with extra args.
fn serve(spec: &str, extra: &[&str]) -> Server {
    let trust = signed().trust.display().to_string();
    let mut args = vec!["--no-classifier", "--trust", &trust, "--registry", spec];
    args.extend_from_slice(extra);
    let s = Server::start_in(&root(), &args);
    s.wait_ready();
    s
}

fn post(s: &Server, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    request(s.addr, "POST", path, headers, body)
}

fn assert_error(r: &Response, status: u16, kind: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["kind"], kind, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
}

fn ids(r: &Response) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manifestId"].as_str().unwrap().to_string())
        .collect()
}

/// Every read endpoint on a registry holding the first durable fixture.
fn resolution_api(reg: Box<dyn Registry>, spec: &str) {
    let rec = record(&signed().durable[0]);
    reg.insert(&rec).unwrap();
    drop(reg);
    let id = rec.manifest_id().to_string();
    let payload = rec.payload().unwrap().to_be_bytes();
    let hash = rec.fingerprint().unwrap().hash.0;
    let s = serve(spec, &[]);

    // /readyz names the registry.
    let ready = http::get(s.addr, "/readyz").json();
    assert_eq!(ready["registry"]["loaded"], true, "{ready}");
    assert!(ready["registry"]["location"].is_string(), "{ready}");

    let algs = http::get(s.addr, "/v1/services/supportedAlgorithms").json();
    assert_eq!(
        algs,
        json!({"watermarks": [{"alg": SOFT_BINDING_ALG}], "fingerprints": [{"alg": FINGERPRINT_ALG}]})
    );

    // By binding, GET: the watermark payload matches exactly.
    let by_wm = format!(
        "/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value={}",
        esc(&b64(&payload))
    );
    let r = http::get(s.addr, &by_wm);
    assert_eq!(
        r.json(),
        json!({"matches": [{"manifestId": id, "similarityScore": 100}]})
    );
    // The fingerprint matches within the radius, nearest first.
    let mut near = hash;
    near[0] ^= 0b0000_0111;
    let r = http::get(
        s.addr,
        &format!(
            "/v1/matches/byBinding?alg={FINGERPRINT_ALG}&value={}",
            esc(&b64(&near))
        ),
    );
    assert_eq!(ids(&r), vec![id.clone()]);
    let score = r.json()["matches"][0]["similarityScore"].as_u64().unwrap();
    assert!((90..100).contains(&score), "{score}");
    // A `+` a form encoder turned into a space still decodes.
    let plus = b64(&payload);
    let r = http::get(
        s.addr,
        &format!(
            "/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value={}",
            esc(&plus).replace("%2B", "+")
        ),
    );
    assert_eq!(ids(&r), vec![id.clone()]);

    // By binding, POST (JSON body).
    let body = json!({"alg": SOFT_BINDING_ALG, "value": b64(&payload)}).to_string();
    let r = post(
        &s,
        "/v1/matches/byBinding?maxResults=1",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(ids(&r), vec![id.clone()]);

    // An unknown payload matches nothing.
    let other = format!(
        "/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value={}",
        esc(&b64(&[1u8; 8]))
    );
    assert_eq!(ids(&http::get(s.addr, &other)), Vec::<String>::new());

    // Bad queries are 400 invalid_input.
    for bad in [
        format!("/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value=%25%25%25"),
        format!(
            "/v1/matches/byBinding?alg=com.example.nope&value={}",
            esc(&b64(&payload))
        ),
        format!("/v1/matches/byBinding?alg={SOFT_BINDING_ALG}"),
        format!(
            "/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value={}",
            esc(&b64(&[1u8; 5]))
        ),
        format!("{by_wm}&maxResults=0"),
    ] {
        assert_error(&http::get(s.addr, &bad), 400, "invalid_input");
    }
    let r = post(
        &s,
        "/v1/matches/byBinding",
        &[("Content-Type", "application/json")],
        b"{\"alg\": 1}",
    );
    assert_error(&r, 400, "invalid_input");

    // By content: a copy stripped of its manifest (re-encoded as JPEG) is
    // recovered, by either algorithm or both; an unrelated image is not.
    let stripped = jpeg(&signed().durable[0], 90);
    let jpeg_ct = [("Content-Type", "image/jpeg")];
    assert_eq!(
        ids(&post(&s, "/v1/matches/byContent", &jpeg_ct, &stripped)),
        vec![id.clone()]
    );
    for alg in [SOFT_BINDING_ALG, FINGERPRINT_ALG] {
        let r = post(
            &s,
            &format!("/v1/matches/byContent?alg={alg}"),
            &jpeg_ct,
            &stripped,
        );
        assert_eq!(ids(&r), vec![id.clone()], "{alg}");
    }
    let (ct, body) = http::multipart("file", "copy.jpg", &stripped);
    let r = post(&s, "/v1/matches/byContent", &[("Content-Type", &ct)], &body);
    assert_eq!(ids(&r), vec![id.clone()]);
    let unrelated = std::fs::read(&signed().unsigned).unwrap();
    let r = post(
        &s,
        "/v1/matches/byContent",
        &[("Content-Type", "image/png")],
        &unrelated,
    );
    assert_eq!(ids(&r), Vec::<String>::new());
    let r = post(
        &s,
        "/v1/matches/byContent?alg=com.example.nope",
        &jpeg_ct,
        &stripped,
    );
    assert_error(&r, 400, "invalid_input");
    let r = post(
        &s,
        "/v1/matches/byContent",
        &jpeg_ct,
        &stripped[..stripped.len() / 3],
    );
    assert!(
        (400..500).contains(&r.status) && r.json()["kind"].is_string(),
        "{}",
        r.text()
    );

    // The manifest store by id: the bytes the registry holds.
    let r = http::get(s.addr, &format!("/v1/manifests/{}", esc(&id)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/c2pa"));
    assert_eq!(r.body, rec.manifest_store());
    let r = http::get(
        s.addr,
        "/v1/manifests/urn:c2pa:00000000-0000-4000-8000-000000000000",
    );
    assert_error(&r, 404, "not_found");

    // Writes are refused when no API token is configured.
    let signed_bytes = std::fs::read(&signed().durable[1]).unwrap();
    let r = post(
        &s,
        "/v1/manifests",
        &[("Content-Type", "image/png")],
        &signed_bytes,
    );
    assert_error(&r, 403, "writes_disabled");
}

/// `POST /v1/manifests` records a verified signed asset, with the token.
fn write_needs_the_token(reg: Box<dyn Registry>, spec: &str) {
    drop(reg); // an empty registry
    let token = "correct horse battery staple";
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let s = serve(spec, &["--api-token-sha256", &hash]);
    let asset = std::fs::read(&signed().durable[1]).unwrap();
    let write = |auth: Option<&str>, body: &[u8]| {
        let bearer = auth.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "image/png")];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b.as_str()));
        }
        post(&s, "/v1/manifests", &headers, body)
    };
    let r = write(None, &asset);
    assert_error(&r, 401, "unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_error(&write(Some("wrong"), &asset), 401, "unauthorized");

    let id = record(&signed().durable[1]).manifest_id().to_string();
    let r = write(Some(token), &asset);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!({"manifestId": id, "stored": "added"}));
    let r = write(Some(token), &asset);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], "already_present");
    // Now resolvable.
    let r = http::get(s.addr, &format!("/v1/manifests/{}", esc(&id)));
    assert_eq!(r.status, 200, "{}", r.text());
    // Only valid signed assets are recorded.
    let unsigned = std::fs::read(&signed().unsigned).unwrap();
    assert_error(&write(Some(token), &unsigned), 400, "invalid_input");
}

macro_rules! backend_suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn resolution_api() {
                let (reg, spec, _keep) = $open;
                super::resolution_api(reg, &spec);
            }
            #[test]
            fn write_needs_the_token() {
                let (reg, spec, _keep) = $open;
                super::write_needs_the_token(reg, &spec);
            }
        }
    };
}

fn sqlite() -> (Box<dyn Registry>, String, tempfile::TempDir) {
    let (reg, dir) = registry_support::sqlite();
    let spec = dir.path().join("r.sqlite").display().to_string();
    (reg, spec, dir)
}

fn postgres() -> (Box<dyn Registry>, String, ()) {
    let (reg, url) = registry_support::postgres();
    (reg, url, ())
}

backend_suite!(sqlite_backend, sqlite());
backend_suite!(postgres_backend, postgres());

/// Without `--registry` the resolver says so: no algorithms, and 503
/// `unavailable` for lookups.
#[test]
fn without_a_registry_lookups_are_unavailable() {
    let trust = signed().trust.display().to_string();
    let s = Server::start_in(&root(), &["--no-classifier", "--trust", &trust]);
    s.wait_ready();
    let ready = http::get(s.addr, "/readyz").json();
    assert_eq!(ready["registry"]["loaded"], false, "{ready}");
    let algs = http::get(s.addr, "/v1/services/supportedAlgorithms").json();
    assert_eq!(algs, json!({"watermarks": [], "fingerprints": []}));
    let r = http::get(
        s.addr,
        &format!("/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value=AAAAAAAAAAA="),
    );
    assert_error(&r, 503, "unavailable");
    assert_eq!(r.header("retry-after"), Some("1"));
    let r = http::get(s.addr, "/v1/manifests/urn:c2pa:x");
    assert_error(&r, 503, "unavailable");
}

/// /readyz says 503 `registry_unavailable` once the registry stops
/// answering (here its PostgreSQL database is dropped under the server).
#[test]
fn readiness_fails_while_the_registry_does_not_answer() {
    let (reg, url) = registry_support::postgres();
    drop(reg);
    let s = serve(&url, &[]);
    let (_, name) = url.rsplit_once('/').unwrap();
    let mut admin =
        postgres::Client::connect(&registry_support::postgres_url(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    let r = http::get(s.addr, "/readyz");
    assert_eq!(r.status, 503, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "registry_unavailable", "{v}");
    assert_eq!(v["registry"]["loaded"], false, "{v}");
    assert!(
        v["registry"]["reason"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{v}"
    );
}

/// Two `serve` replicas share one PostgreSQL registry (the deployment
/// docs/distributed.md describes): what one records, the other resolves
/// at once, and a second write of the same asset through the other
/// replica is `already_present` (append-only across replicas).
#[test]
fn two_servers_share_one_postgres_registry() {
    let (reg, url) = registry_support::postgres();
    drop(reg);
    let token = "replica token";
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let a = serve(&url, &["--api-token-sha256", &hash]);
    let b = serve(&url, &["--api-token-sha256", &hash]);
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Content-Type", "image/png"),
        ("Authorization", bearer.as_str()),
    ];
    let asset = std::fs::read(&signed().durable[0]).unwrap();
    let rec = record(&signed().durable[0]);
    let id = rec.manifest_id().to_string();

    // Nothing yet on either replica.
    let by_wm = format!(
        "/v1/matches/byBinding?alg={SOFT_BINDING_ALG}&value={}",
        esc(&b64(&rec.payload().unwrap().to_be_bytes()))
    );
    assert_eq!(ids(&http::get(b.addr, &by_wm)), Vec::<String>::new());

    // Recorded through A ...
    let r = post(&a, "/v1/manifests", &headers, &asset);
    assert_eq!(r.status, 201, "{}", r.text());
    // ... resolved through B: by binding, by content and by id.
    assert_eq!(ids(&http::get(b.addr, &by_wm)), vec![id.clone()]);
    let stripped = jpeg(&signed().durable[0], 90);
    let r = post(
        &b,
        "/v1/matches/byContent",
        &[("Content-Type", "image/jpeg")],
        &stripped,
    );
    assert_eq!(ids(&r), vec![id.clone()]);
    let r = http::get(b.addr, &format!("/v1/manifests/{}", esc(&id)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, rec.manifest_store());
    // The same asset written through B is already there.
    let r = post(&b, "/v1/manifests", &headers, &asset);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], "already_present");
}
