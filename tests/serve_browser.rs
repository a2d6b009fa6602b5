//! The web page in a real browser: Debian's Chromium driven over WebDriver
//! (chromedriver) with fantoccini. Each bundled sample is uploaded through
//! the page's file input and the verdict shown must be the one `check`
//! gives; a broken file must show its error; the file input must be the
//! first stop of the keyboard; nothing may overflow a phone-width window.
//! Screenshots go to `$CARGO_TARGET_TMPDIR/serve_browser/`.
//!
//! Needs `chromium` and `chromium-driver` (scripts/test.sh installs them).
//! Chromium runs headless without its sandbox (CI runs as root), with a
//! fresh profile and its background network features off: the machine has
//! no internet, and the page must not need it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use serve_support::{cli_json, root, Server, SAMPLES};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_chromedriver() -> (Driver, u16) {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: install Debian's chromium and chromium-driver \
             (bash scripts/test.sh does it)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start chromedriver");
    let driver = Driver(child);
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

async fn browser(port: u16, profile: &Path) -> Client {
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,1800".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("cannot open a Chromium session through chromedriver")
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Upload one file through the page and wait for its card to finish.
async fn upload(c: &Client, path: &Path) -> fantoccini::elements::Element {
    let name = path.file_name().unwrap().to_str().unwrap();
    let input = c.find(Locator::Css("#files")).await.unwrap();
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    let done = format!("article[data-file=\"{name}\"][aria-busy=\"false\"]");
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(&done))
        .await
        .unwrap_or_else(|e| panic!("no finished report for {name}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sample_uploaded_through_the_page_shows_its_verdict() {
    let server = Server::ready(&[]);
    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(port, profile.path()).await;
    let url = format!("http://{}/", server.addr);
    c.goto(&url).await.unwrap();
    assert_eq!(
        c.title().await.unwrap(),
        "hallmark: where does this image come from?"
    );

    // The keyboard reaches the file picker first.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = c
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "files");

    for (name, verdict) in SAMPLES {
        let file = root().join("samples").join(name);
        let card = upload(&c, &file).await;
        let expected = cli_json(&["check", "--json", &format!("samples/{name}")]);
        assert_eq!(
            card.attr("data-verdict").await.unwrap().as_deref(),
            Some(verdict)
        );
        let shown = card
            .find(Locator::Css(".verdict"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(shown, expected["summary"].as_str().unwrap(), "{name}");
        let badges = card
            .find_all(Locator::Css(".evidence .badge"))
            .await
            .unwrap();
        let mut strengths = Vec::new();
        for b in &badges {
            strengths.push(b.text().await.unwrap());
        }
        let want: Vec<String> = expected["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["strength"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(strengths, want, "{name}: badges strongest first");
        let caveat = card.find(Locator::Css(".caveat")).await.unwrap();
        assert!(caveat.text().await.unwrap().contains("weakest evidence"));
        card.find(Locator::Css("button.download")).await.unwrap();
    }

    // A signed sample shows its signer and actions from /v1/verify.
    let signed = c
        .find(Locator::Css(
            "article[data-file=\"ai-signed.jpg\"] .manifest",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signed.contains("hallmark-demo"), "{signed}");
    assert!(signed.contains("c2pa.created"), "{signed}");
    assert!(signed.contains("trainedAlgorithmicMedia"), "{signed}");

    // A broken file shows why it could not be checked.
    let card = upload(&c, &root().join("tests/bad/truncated.png")).await;
    assert_eq!(
        card.attr("data-verdict").await.unwrap().as_deref(),
        Some("error")
    );
    let why = card.text().await.unwrap();
    assert!(why.contains("file is truncated"), "{why}");

    let dir = out_dir();
    std::fs::write(dir.join("desktop.png"), c.screenshot().await.unwrap()).unwrap();

    // Phone width: nothing wider than the window.
    c.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "overflows by {overflow} px"
    );
    std::fs::write(dir.join("phone.png"), c.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshots in {}", dir.display());
    c.close().await.unwrap();
}
