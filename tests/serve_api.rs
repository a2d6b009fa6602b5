//! `hallmark serve` over real HTTP on loopback: every endpoint answers what
//! the matching CLI command prints, every error class has its status and
//! `kind`, limits hold, concurrent requests are all answered, and SIGTERM
//! finishes the request in flight before the process exits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod serve_support;

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;
use serve_support::http::{self, multipart, request, Conn};
use serve_support::{cli_json, root, Server, SAMPLES};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("samples").join(name)).unwrap()
}

fn post_raw(s: &Server, path: &str, body: &[u8]) -> http::Response {
    request(
        s.addr,
        "POST",
        path,
        &[("Content-Type", "application/octet-stream")],
        body,
    )
}

fn post_form(s: &Server, path: &str, filename: &str, body: &[u8]) -> http::Response {
    let (ct, form) = multipart("file", filename, body);
    request(s.addr, "POST", path, &[("Content-Type", &ct)], &form)
}

/// Drop the fields that vary from run to run.
fn stable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("timings_ms");
        o.remove("ms");
    }
    v
}

fn assert_error(r: &http::Response, status: u16, kind: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["kind"], kind, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty() && !e.contains('\n')),
        "{v}"
    );
    if status == 503 {
        assert_eq!(r.header("retry-after"), Some("1"));
    }
}

#[test]
fn every_upload_endpoint_answers_exactly_what_the_cli_prints() {
    let s = Server::ready(&[]);
    for (name, verdict) in SAMPLES {
        let bytes = sample(name);
        let file = format!("samples/{name}");
        let path = format!("/v1/check?name={file}");
        let api = stable(post_raw(&s, &path, &bytes).json());
        let cli = stable(cli_json(&["check", "--json", &file]));
        assert_eq!(api, cli, "check {name}");
        assert_eq!(api["verdict"], verdict);

        // The same file as a browser sends it: multipart, named by the form.
        let form = stable(post_form(&s, "/v1/check", &file, &bytes).json());
        assert_eq!(form, cli, "check {name} (multipart)");

        let api = post_raw(&s, &format!("/v1/verify?name={file}"), &bytes).json();
        assert_eq!(api, cli_json(&["verify", "--json", &file]), "verify {name}");

        let api = stable(post_raw(&s, &format!("/v1/detect?name={file}"), &bytes).json());
        let cli = stable(cli_json(&["detect", "--json", &file]));
        assert_eq!(api, cli, "detect {name}");

        let api = post_raw(&s, "/v1/watermark/detect", &bytes).json();
        let cli = cli_json(&["watermark", "detect", "--json", &file]);
        assert_eq!(api, cli, "watermark detect {name}");
    }
    // Without a name the report calls the file `upload`.
    let v = post_raw(&s, "/v1/check", &sample("unlabelled.png")).json();
    assert_eq!(v["file"], "upload");
}

#[test]
fn health_readiness_metrics_and_the_page() {
    let s = Server::ready(&["--no-classifier"]);
    let h = http::get(s.addr, "/healthz");
    assert_eq!((h.status, h.json()["status"].clone()), (200, "ok".into()));

    let r = http::get(s.addr, "/readyz").json();
    assert_eq!(r["ready"], true);
    assert_eq!(r["trust"]["source"], "keys");
    assert!(r["trust"]["anchors"].as_u64().unwrap() >= 1);
    assert_eq!(r["classifier"]["loaded"], false);
    assert!(r["classifier"]["reason"]
        .as_str()
        .unwrap()
        .contains("--no-classifier"));

    let page = http::get(s.addr, "/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(page.text().contains("<input id=\"files\" type=\"file\""));
    for (path, ct) in [("/app.js", "text/javascript"), ("/app.css", "text/css")] {
        let a = http::get(s.addr, path);
        assert_eq!(a.status, 200, "{path}");
        assert!(a.header("content-type").unwrap().starts_with(ct));
        assert!(a.body.len() > 1000);
    }

    post_raw(&s, "/v1/check", &sample("ai-signed.jpg"));
    post_raw(&s, "/v1/check", b"\xff\xd8\xff truncated");
    let m = http::get(s.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = m.text();
    for needle in [
        "hallmark_http_requests_total{route=\"/v1/check\",method=\"POST\",status=\"200\"} 1",
        "hallmark_http_requests_total{route=\"/v1/check\",method=\"POST\",status=\"422\"} 1",
        "hallmark_http_errors_total{kind=\"decode\"} 1",
        "hallmark_http_request_duration_seconds_count{route=\"/v1/check\"} 2",
        "hallmark_http_requests_in_flight 1",
        "hallmark_uploads_waiting 0",
        "hallmark_ready 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn every_error_class_has_its_status_and_kind() {
    let s = Server::ready(&["--no-classifier", "--max-body", "300000"]);
    let addr = s.addr;
    // 400: nothing to check, or no `file` field.
    assert_error(&post_raw(&s, "/v1/check", b""), 400, "invalid_input");
    let (ct, form) = multipart("picture", "a.jpg", &sample("ai-signed.jpg"));
    let r = request(addr, "POST", "/v1/check", &[("Content-Type", &ct)], &form);
    assert_error(&r, 400, "invalid_input");
    let r = request(
        addr,
        "POST",
        "/v1/check",
        &[("Content-Type", "multipart/form-data")],
        b"x",
    );
    assert_error(&r, 400, "invalid_input");
    // 404, 405.
    assert_error(&http::get(addr, "/v2/check"), 404, "not_found");
    assert_error(&http::get(addr, "/v1/check"), 405, "method_not_allowed");
    // 413: a body over --max-body, declared or streamed; an image over the
    // decoder's pixel limits.
    let big = vec![0u8; 400_000];
    assert_error(&post_raw(&s, "/v1/check", &big), 413, "body_too_large");
    let (ct, form) = multipart("file", "big.jpg", &big);
    let r = request(addr, "POST", "/v1/verify", &[("Content-Type", &ct)], &form);
    assert_error(&r, 413, "body_too_large");
    let mut c = Conn::open(addr, Duration::from_secs(30)).unwrap();
    let head = "POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                Content-Type: image/jpeg\r\nConnection: close\r\n\r\n";
    c.stream().write_all(head.as_bytes()).unwrap();
    for _ in 0..8 {
        let chunk = vec![0xAB; 50_000];
        let _ = c
            .stream()
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = c.stream().write_all(&chunk);
        let _ = c.stream().write_all(b"\r\n");
    }
    let _ = c.stream().write_all(b"0\r\n\r\n");
    assert_error(&c.read_response().unwrap(), 413, "body_too_large");
    // 415: not an image body type, or an image format we cannot decode.
    let r = request(
        addr,
        "POST",
        "/v1/check",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_error(&r, 415, "unsupported_media_type");
    let r = request(
        addr,
        "POST",
        "/v1/detect",
        &[("Content-Type", "text/plain")],
        b"hi",
    );
    assert_error(&r, 415, "unsupported_media_type");
    // 503: an engine that is not loaded.
    assert_error(
        &post_raw(&s, "/v1/detect", &sample("unlabelled.png")),
        503,
        "unavailable",
    );
    // 404: no thumbnail in this manifest (or no manifest).
    assert_error(
        &post_raw(&s, "/v1/manifest/thumbnail", &sample("ai-signed.jpg")),
        404,
        "not_found",
    );
}

#[test]
fn hostile_files_get_clear_errors_and_never_take_the_server_down() {
    let s = Server::ready(&["--no-classifier"]);
    let status_of = |kind: &str| match kind {
        "invalid_input" => 400,
        "limits" => 413,
        "unsupported" => 415,
        "decode" => 422,
        other => panic!("unexpected error kind {other}"),
    };
    let mut names: Vec<_> = std::fs::read_dir(root().join("tests/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 9);
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        // /v1/check answers what `check --json` says: the same error kind
        // (an empty upload is refused before decoding), or the same report.
        let cli = cli_json(&[
            "check",
            "--json",
            "--no-classifier",
            &format!("tests/bad/{name}"),
        ]);
        let r = post_raw(&s, &format!("/v1/check?name=tests/bad/{name}"), &bytes);
        match cli["error_kind"].as_str() {
            _ if bytes.is_empty() => assert_error(&r, 400, "invalid_input"),
            Some(kind) => assert_error(&r, status_of(kind), kind),
            None => assert_eq!(stable(r.json()), stable(cli), "{name}"),
        }
        // The other upload endpoints refuse it with a 4xx JSON error.
        for endpoint in ["/v1/watermark/detect", "/v1/verify"] {
            let r = post_raw(&s, endpoint, &bytes);
            assert!(
                r.status == 200 || (400..500).contains(&r.status),
                "{endpoint} {name}: {} {}",
                r.status,
                r.text()
            );
            if r.status != 200 {
                assert_error(&r, r.status, r.json()["kind"].as_str().unwrap());
            }
        }
    }
    // Still serving.
    let v = post_raw(&s, "/v1/check", &sample("ai-signed.jpg")).json();
    assert_eq!(v["verdict"], "ai_generated");
    assert_eq!(http::get(s.addr, "/healthz").status, 200);
}

#[test]
fn concurrent_requests_are_all_answered_correctly() {
    let s = Server::ready(&["--no-classifier", "--workers", "2", "--queue", "64"]);
    let addr = s.addr;
    let handles: Vec<_> = (0..24)
        .map(|i| {
            std::thread::spawn(move || {
                let (name, verdict) = SAMPLES[i % SAMPLES.len()];
                let bytes = sample(name);
                let mut c = Conn::open(addr, Duration::from_secs(120)).unwrap();
                // Two requests on one keep-alive connection.
                for _ in 0..2 {
                    let r = c
                        .send(
                            "POST",
                            "/v1/check",
                            &[("Content-Type", "application/octet-stream")],
                            &bytes,
                        )
                        .unwrap();
                    assert_eq!(r.status, 200, "{}", r.text());
                    assert_eq!(r.json()["verdict"], verdict, "{name}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let m = http::get(addr, "/metrics").text();
    assert!(
        m.contains(
            "hallmark_http_requests_total{route=\"/v1/check\",method=\"POST\",status=\"200\"} 48"
        ),
        "{m}"
    );
}

/// Start an upload that declares `len` bytes and sends only a few.
fn unfinished_upload(addr: std::net::SocketAddr, path: &str, len: usize) -> Conn {
    let mut c = Conn::open(addr, Duration::from_secs(60)).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {len}\r\n\r\n"
    );
    c.stream().write_all(head.as_bytes()).unwrap();
    c.stream().write_all(&[0x89, b'P']).unwrap();
    c.stream().flush().unwrap();
    c
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    // One worker and no queue: one upload in the building fills it.
    let s = Server::ready(&["--no-classifier", "--workers", "1", "--queue", "0"]);
    let _slow = unfinished_upload(s.addr, "/v1/check", 100_000);
    std::thread::sleep(Duration::from_millis(300));
    let r = post_raw(&s, "/v1/check", &sample("unlabelled.png"));
    assert_error(&r, 503, "busy");
    // Health and metrics are not uploads: they still answer.
    assert_eq!(http::get(s.addr, "/healthz").status, 200);
    drop(_slow);
    // Once the slow client is gone its slot is free again.
    let t = Instant::now();
    loop {
        let r = post_raw(&s, "/v1/check", &sample("unlabelled.png"));
        if r.status == 200 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_request_past_its_deadline_answers_503_timeout() {
    let s = Server::ready(&["--no-classifier", "--timeout", "1"]);
    let mut slow = unfinished_upload(s.addr, "/v1/check", 100_000);
    let t = Instant::now();
    let r = slow.read_response().unwrap();
    assert_error(&r, 503, "timeout");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(20));
    // The server goes on.
    assert_eq!(http::get(s.addr, "/healthz").status, 200);
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    let mut s = Server::ready(&["--no-classifier"]);
    let bytes = sample("camera-signed.jpg");
    let mut c = Conn::open(s.addr, Duration::from_secs(60)).unwrap();
    let head = format!(
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    );
    c.stream().write_all(head.as_bytes()).unwrap();
    c.stream().write_all(&bytes[..1000]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.terminate();
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused while the old one is served.
    assert!(std::net::TcpStream::connect_timeout(&s.addr, Duration::from_secs(2)).is_err());
    c.stream().write_all(&bytes[1000..]).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["verdict"], "camera_capture");
    drop(c);
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}");
    let events: Vec<String> = s
        .log_json()
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .collect();
    let pos = |e: &str| events.iter().position(|x| x == e).unwrap();
    assert!(pos("listening") < pos("ready"));
    assert!(pos("draining") < pos("stopped"), "{events:?}");
}

#[test]
fn logs_are_one_json_line_per_request_without_bodies_or_secrets() {
    let s = Server::ready(&["--no-classifier"]);
    let bytes = sample("sd-metadata.png");
    let r = request(
        s.addr,
        "POST",
        "/v1/check?name=secret-name.png",
        &[
            ("Content-Type", "image/png"),
            ("Authorization", "Bearer hunter2-token"),
        ],
        &bytes,
    );
    assert_eq!(r.status, 200);
    post_raw(&s, "/v1/check", b"not an image at all");
    std::thread::sleep(Duration::from_millis(200));
    let log = s.log.lock().unwrap().join("\n");
    assert!(!log.contains("hunter2"), "a token was logged");
    assert!(!log.contains("astronaut"), "image content was logged");
    assert!(!log.contains("secret-name"), "a query string was logged");
    let lines = s.log_json();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["event"] == "request").collect();
    let check: Vec<&&Value> = requests
        .iter()
        .filter(|l| l["path"] == "/v1/check")
        .collect();
    assert_eq!(check.len(), 2, "{lines:?}");
    assert_eq!(check[0]["status"], 200);
    assert_eq!(check[0]["bytes_in"], bytes.len());
    assert!(check[0]["ms"].as_f64().unwrap() > 0.0);
    assert_eq!(check[1]["status"], 415);
    assert_eq!(check[1]["kind"], "unsupported");
    for l in &lines {
        assert!(l["ts"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn a_non_loopback_address_is_refused_without_allow_remote() {
    let out = std::process::Command::new(serve_support::bin())
        .current_dir(root())
        .args(["serve", "--addr", "0.0.0.0:0", "--no-classifier"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_unreadable_trust_folder_stops_the_server_with_a_clear_error() {
    let mut s = Server::start_in(
        &root(),
        &["--no-classifier", "--trust", "/nonexistent/trust"],
    );
    let status = s.wait_exit();
    assert_eq!(status.code(), Some(2));
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("\"event\":\"fatal\""), "{log}");
    assert!(log.contains("/nonexistent/trust"), "{log}");
}

/// `samples/unlabelled.png` signed into `dir/NAME` with a fresh key and
/// the extra `sign` arguments.
fn signed_sample(dir: &std::path::Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let run = |args: &[&str]| {
        let out = common::hallmark_in(dir).args(args).output().unwrap();
        common::assert_exit(&out, 0);
    };
    run(&["keygen", "--name", "t", "--out", "."]);
    let src = root().join("samples/unlabelled.png");
    let mut args = vec!["sign", src.to_str().unwrap(), "-o", name, "--key", "t.key"];
    args.extend_from_slice(extra);
    run(&args);
    dir.join(name)
}

#[test]
fn the_manifest_thumbnail_is_served_when_the_signer_recorded_one() {
    let dir = tempfile::tempdir().unwrap();
    let signed = signed_sample(dir.path(), "signed.png", &["--thumbnail"]);
    let s = Server::ready(&["--no-classifier"]);
    let signed = std::fs::read(signed).unwrap();
    let r = post_raw(&s, "/v1/manifest/thumbnail", &signed);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let thumb = image::load_from_memory(&r.body).unwrap();
    assert!(thumb.width() <= 512 && thumb.width() > 100);
}

#[test]
fn comply_answers_what_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let labelled = signed_sample(
        dir.path(),
        "labelled.png",
        &[
            "--ai-generated",
            "--gb45438",
            "Example AI Co",
            "--visible-label",
        ],
    );
    let s = Server::ready(&["--no-classifier"]);
    let file = labelled.to_str().unwrap();
    let api = post_raw(
        &s,
        &format!("/v1/comply?name={file}"),
        &std::fs::read(&labelled).unwrap(),
    );
    assert_eq!(api.status, 200, "{}", api.text());
    let api = api.json();
    assert_eq!(api, cli_json(&["comply", "--json", file]));
    assert_eq!(api["compliant"], true, "{api}");
    assert_eq!(api["rules"].as_array().unwrap().len(), 2, "{api}");

    // An unlabelled file fails, naming why; one rule can be asked alone.
    let plain = sample("unlabelled.png");
    let v = post_raw(&s, "/v1/comply?rules=gb45438", &plain).json();
    assert_eq!(v["compliant"], false, "{v}");
    assert_eq!(v["rules"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["rules"][0]["rule"], "gb45438", "{v}");
    let implicit = &v["rules"][0]["obligations"][0];
    assert_eq!(implicit["id"], "implicit-label", "{v}");
    assert_eq!(implicit["status"], "failed", "{v}");

    let r = post_raw(&s, "/v1/comply?rules=gb45438,nope", &plain);
    assert_error(&r, 400, "invalid_input");
    assert!(r.json()["error"].as_str().unwrap().contains("nope"));
    let r = post_raw(&s, "/v1/comply", b"not an image");
    assert!(r.status >= 400 && r.status < 500, "{}", r.text());
}
