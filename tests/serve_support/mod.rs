//! Helpers for the serve tests: start `hallmark serve` as a real process on
//! a free loopback port, learn its address from its `listening` log line,
//! collect its JSON log lines, wait for readiness, stop it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root (servers and CLI runs happen there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test (HALLMARK_BIN overrides, as in tests/common).
pub fn bin() -> PathBuf {
    std::env::var_os("HALLMARK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hallmark")))
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its stderr lines so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Start `hallmark serve --addr 127.0.0.1:0 ARGS...` in `cwd` and wait
    /// for its address (not for readiness).
    pub fn start_in(cwd: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .current_dir(cwd)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start hallmark serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("\"event\":\"listening\"") {
                        let _ = tx.send(line.clone());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start listening: {:?}",
                    log.lock().unwrap()
                );
            }
        };
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let addr = v["addr"].as_str().unwrap().parse().unwrap();
        Server {
            child: Some(child),
            addr,
            log,
        }
    }

    /// Start in the repository root, trusting the demo CA in `keys/` (so
    /// the signed samples are trusted, as in the README's first command).
    pub fn start(args: &[&str]) -> Server {
        let mut all = vec!["--trust", "keys"];
        all.extend_from_slice(args);
        Self::start_in(&root(), &all)
    }

    /// Start and wait until `/readyz` says ready.
    pub fn ready(args: &[&str]) -> Server {
        let s = Self::start(args);
        s.wait_ready();
        s
    }

    /// Poll `/readyz` until 200 (60 s at most).
    pub fn wait_ready(&self) {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if http::get(self.addr, "/readyz").status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("not ready after 60 s: {:?}", self.log.lock().unwrap());
    }

    /// Send SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
    }

    /// Wait for the process to exit (30 s at most).
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let t = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                // Let the stderr reader catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the server did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The JSON log lines so far.
    pub fn log_json(&self) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Run `hallmark ARGS --trust keys` in the repository root (the trust the
/// test servers use) and parse its stdout as JSON.
pub fn cli_json(args: &[&str]) -> serde_json::Value {
    let trusts = !matches!(args.first(), Some(&"detect") | Some(&"watermark"));
    let out = Command::new(bin())
        .current_dir(root())
        .args(args)
        .args(if trusts {
            &["--trust", "keys"][..]
        } else {
            &[]
        })
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "hallmark {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The bundled samples with the verdict the README promises for each.
pub const SAMPLES: [(&str, &str); 6] = [
    ("ai-signed.jpg", "ai_generated"),
    ("ai-watermarked.jpg", "watermarked"),
    ("camera-signed.jpg", "camera_capture"),
    ("camera-tampered.jpg", "tampered"),
    ("sd-metadata.png", "ai_generated"),
    ("unlabelled.png", "inconclusive"),
];
