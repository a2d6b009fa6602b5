//! End-to-end tests of `hallmark keygen` and the CLI surface, running the
//! real binary in a temporary folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;

fn hallmark() -> Command {
    Command::cargo_bin("hallmark").unwrap()
}

#[test]
fn help_lists_every_subcommand() {
    let out = hallmark().arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for cmd in [
        "keygen",
        "sign",
        "verify",
        "watermark",
        "detect",
        "check",
        "scan",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
    }
    hallmark()
        .args(["watermark", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("embed").and(predicate::str::contains("detect")));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    hallmark().args(["keygen", "--nope"]).assert().code(2);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_keys_chain_and_ca_with_right_modes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k");
    let assert = hallmark()
        .args(["keygen", "--name", "alice", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("fingerprint  SHA256:"), "{stdout}");
    for f in [
        "alice.key",
        "alice.pub",
        "alice.crt",
        "alice-ca.key",
        "alice-ca.crt",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    // Secrets never reach stdout.
    let key = std::fs::read_to_string(out.join("alice.key")).unwrap();
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!stdout.contains(&body));
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&out.join("alice.key")), 0o600);
        assert_eq!(mode(&out.join("alice-ca.key")), 0o600);
        assert_eq!(mode(&out.join("alice.crt")), 0o644);
    }
    // Refuses to overwrite, exit 2, files untouched.
    hallmark()
        .args(["keygen", "--name", "alice", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(out.join("alice.key")).unwrap(), key);
}

/// The chain parses with an independent implementation (OpenSSL) and has the
/// C2PA profile's extensions. Skipped where OpenSSL's CLI is absent.
#[test]
fn keygen_chain_verifies_with_openssl() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    hallmark()
        .args(["keygen", "--name", "cam", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(dir.path().join("cam.crt"))
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Version: 3"), "{text}");
    assert!(text.contains("ED25519"), "{text}");
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.62558.2.1"), "{text}");
    assert!(text.contains("E-mail Protection"), "{text}");
    assert!(text.contains("Authority Key Identifier"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    // Regression: PKCS#8 v2 keys are unreadable to OpenSSL 3.0 (and so to
    // OpenSSL-built C2PA tools); keygen writes v1.
    let pkey = Command::new("openssl")
        .args(["pkey", "-noout", "-in"])
        .arg(dir.path().join("cam.key"))
        .output()
        .unwrap();
    assert!(
        pkey.status.success(),
        "openssl pkey: {}",
        String::from_utf8_lossy(&pkey.stderr)
    );
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.path().join("cam-ca.crt"))
        .arg(dir.path().join("cam.crt"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn keygen_from_existing_ca_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    hallmark()
        .args(["keygen", "--name", "desk", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    hallmark()
        .args(["keygen", "--name", "photog", "--out"])
        .arg(dir.path())
        .arg("--ca")
        .arg(dir.path().join("desk-ca.key"))
        .assert()
        .success();
    assert!(!dir.path().join("photog-ca.key").exists());
    hallmark()
        .args(["keygen", "--name", "../evil", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key name"));
    hallmark()
        .args(["keygen", "--name", "x", "--out"])
        .arg(dir.path())
        .arg("--ca")
        .arg(dir.path().join("missing-ca.key"))
        .assert()
        .code(2);
}
