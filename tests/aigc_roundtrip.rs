//! Round trips of the AI labels through the real binary: every file `sign
//! --gb45438 --visible-label` writes verifies as C2PA (trusted, with our
//! CA), passes `comply` for both rule sets, keeps the metadata it had
//! (large EXIF, ICC profile, extended XMP, other XMP properties) and is
//! read back correctly by an independent reader (`exiftool -X`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod aigc_common;
mod provenance_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aigc_common::*;
use assert_cmd::prelude::*;
use hallmark::media::metadata::AigcLabel;
use serde_json::Value;

const IPTC_AI: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

fn hallmark(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("hallmark").unwrap();
    c.current_dir(dir);
    c
}

struct Setup {
    dir: tempfile::TempDir,
    trust: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    for name in ["maker", "platform"] {
        hallmark(dir.path())
            .args(["keygen", "--name", name, "--out", "k"])
            .assert()
            .success();
    }
    let trust = dir.path().join("trust");
    std::fs::create_dir(&trust).unwrap();
    for name in ["maker", "platform"] {
        std::fs::copy(
            dir.path().join(format!("k/{name}-ca.crt")),
            trust.join(format!("{name}-ca.crt")),
        )
        .unwrap();
    }
    Setup { dir, trust }
}

fn run(s: &Setup, args: &[&str]) -> (i32, String) {
    let out = hallmark(s.dir.path()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn json_of(s: &Setup, args: &[&str]) -> (i32, Value) {
    let out = hallmark(s.dir.path()).args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// The text of the first `<NAME>` element of `exiftool -X` output, XML
/// entities resolved.
fn x_element(x: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = x.find(&open)? + open.len();
    let end = start + x[start..].find(&format!("</{name}>"))?;
    Some(
        x[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// Sign as a producer with both labels; check verify, comply, exiftool.
fn sign_and_check(s: &Setup, input: &Path, out: &Path) -> Value {
    let (code, text) = run(
        s,
        &[
            "sign",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--key",
            "k/maker.key",
            "--ai-generated",
            "--gb45438",
            "Example AI Co",
            "--produce-id",
            "gen-0001",
            "--visible-label",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("XMP TC260:AIGC and manifest"), "{text}");
    let trust = s.trust.to_str().unwrap();
    let (code, v) = json_of(
        s,
        &["verify", out.to_str().unwrap(), "--trust", trust, "--json"],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["manifest"]["state"], "trusted", "{v}");
    // The C2PA SDK (c2pa-python) reads it Trusted with the maker's CA.
    let sdk = c2pa_sdk_state(out, &s.trust.join("maker-ca.crt"));
    assert_eq!(sdk, "Trusted\n[]", "{}", out.display());
    assert_eq!(v["manifest"]["gb45438"]["ProduceID"], "gen-0001");
    let explicit = v["manifest"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a.get("explicit_label"))
        .cloned()
        .expect("the visible label is recorded as an action");
    assert_eq!(explicit["text"], "AI生成");
    assert!(explicit["height_ratio"].as_f64().unwrap() >= 0.05);
    assert!(explicit["added_by"].as_str().unwrap().contains("maker"));

    let (code, v) = json_of(
        s,
        &["comply", out.to_str().unwrap(), "--trust", trust, "--json"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["compliant"], true);
    for rule in v["rules"].as_array().unwrap() {
        for o in rule["obligations"].as_array().unwrap() {
            assert_eq!(o["status"], "met", "{o}");
        }
    }

    let x = exiftool(&["-X", out.to_str().unwrap()]);
    let aigc = x_element(&x, "XMP-TC260:Aigc").unwrap_or_else(|| panic!("{x}"));
    let label = AigcLabel::from_json(&aigc).unwrap();
    assert_eq!(label.label.as_deref(), Some("1"));
    assert_eq!(label.content_producer.as_deref(), Some("Example AI Co"));
    assert_eq!(label.produce_id.as_deref(), Some("gen-0001"));
    let json: Value = serde_json::from_str(&aigc).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 7, "{json}");
    assert_eq!(
        x_element(&x, "XMP-iptcExt:DigitalSourceType").as_deref(),
        Some(IPTC_AI)
    );
    assert!(
        !x.contains("Warning") && !x.contains("Error"),
        "exiftool complains: {x}"
    );
    serde_json::json!({ "exiftool": x })
}

#[test]
fn jpeg_with_large_exif_icc_and_extended_xmp_round_trips() {
    let s = setup();
    // A JPEG as cameras and editors leave it: large EXIF, an ICC profile
    // over two APP2 segments, XMP with an extended part (written by
    // exiftool itself, the independent writer).
    let mut segs = vec![app1_exif(40_000)];
    segs.extend(app2_icc(90_000));
    let input = s.dir.path().join("camera.jpg");
    std::fs::write(&input, jpeg_with(640, 400, &segs)).unwrap();
    let big = s.dir.path().join("big.txt");
    std::fs::write(&big, "long description ".repeat(5000)).unwrap();
    exiftool(&[
        "-q",
        "-overwrite_original",
        &format!("-XMP-dc:Description<={}", big.display()),
        "-XMP-xmp:CreatorTool=Example Editor 2.1",
        input.to_str().unwrap(),
    ]);
    let before = exiftool(&["-X", input.to_str().unwrap()]);
    assert!(
        before.contains("HasExtendedXMP"),
        "fixture has extended XMP"
    );

    let out = s.dir.path().join("signed.jpg");
    let got = sign_and_check(&s, &input, &out);
    let x = got["exiftool"].as_str().unwrap();
    // Everything that was there is still there, read by exiftool.
    assert_eq!(
        x_element(x, "XMP-xmp:CreatorTool").as_deref(),
        Some("Example Editor 2.1")
    );
    assert!(
        x.contains(&"long description ".repeat(50)),
        "extended XMP lost"
    );
    assert_eq!(x_element(x, "IFD0:ImageDescription").unwrap().len(), 40_000);
    assert_eq!(x_element(x, "IFD0:Make").as_deref(), Some("Canon"));
    assert_eq!(x_element(x, "IFD0:Artist").as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        exif_tag(&out, "ICC_Profile:ProfileFileSignature"),
        "acsp",
        "ICC profile lost"
    );
    let icc = |p: &Path| {
        std::process::Command::new("exiftool")
            .args(["-b", "-ICC_Profile", p.to_str().unwrap()])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(icc(&out), icc(&input), "ICC profile changed");
    assert_eq!(icc(&out).len(), 90_000);
    // The extended XMP and its GUID agree (exiftool checks the MD5 and
    // warns otherwise; sign_and_check asserted no warnings).
    assert!(x.contains("HasExtendedXMP"));
}

#[test]
fn png_and_webp_round_trip_keeping_other_xmp() {
    let s = setup();
    for (fmt, ext) in [
        (image::ImageFormat::Png, "png"),
        (image::ImageFormat::WebP, "webp"),
    ] {
        let input = s.dir.path().join(format!("in.{ext}"));
        std::fs::write(&input, provenance_common::image_bytes(fmt, 400, 300, 3)).unwrap();
        exiftool(&[
            "-q",
            "-overwrite_original",
            "-XMP-dc:Creator=Grace Hopper",
            "-XMP-xmp:Rating=4",
            input.to_str().unwrap(),
        ]);
        let out = s.dir.path().join(format!("out.{ext}"));
        let got = sign_and_check(&s, &input, &out);
        let x = got["exiftool"].as_str().unwrap();
        assert!(x.contains("Grace Hopper"), "{ext}: {x}");
        assert_eq!(
            x_element(x, "XMP-xmp:Rating").as_deref(),
            Some("4"),
            "{ext}"
        );
    }
}

#[test]
fn platform_fills_propagator_fields_of_a_signed_file() {
    let s = setup();
    let input = s.dir.path().join("gen.png");
    std::fs::write(
        &input,
        provenance_common::image_bytes(image::ImageFormat::Png, 320, 240, 5),
    )
    .unwrap();
    let produced = s.dir.path().join("produced.png");
    sign_and_check(&s, &input, &produced);
    let shared = s.dir.path().join("shared.png");
    let (code, text) = run(
        &s,
        &[
            "sign",
            "produced.png",
            "-o",
            "shared.png",
            "--key",
            "k/platform.key",
            "--propagator",
            "Example Platform",
            "--propagate-id",
            "post-77",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let label = AigcLabel::from_json(&exif_tag(&shared, "XMP-TC260:AIGC")).unwrap();
    assert_eq!(label.content_producer.as_deref(), Some("Example AI Co"));
    assert_eq!(label.produce_id.as_deref(), Some("gen-0001"));
    assert_eq!(
        label.content_propagator.as_deref(),
        Some("Example Platform")
    );
    assert_eq!(label.propagate_id.as_deref(), Some("post-77"));
    let trust = s.trust.to_str().unwrap();
    let (code, v) = json_of(&s, &["verify", "shared.png", "--trust", trust, "--json"]);
    assert_eq!(code, 0, "{v}");
    let m = &v["manifest"];
    assert_eq!(m["signer"]["common_name"], "platform");
    assert_eq!(m["gb45438"]["ContentPropagator"], "Example Platform");
    let parent = &m["ingredients"][0];
    assert_eq!(parent["relationship"], "parentOf");
    assert_eq!(parent["signer"], "maker");
    assert_eq!(parent["failures"], serde_json::json!([]), "{parent}");
    // The producer's visible label and AI declaration, kept in the parent
    // manifest, still count.
    let (code, v) = json_of(&s, &["comply", "shared.png", "--trust", trust, "--json"]);
    assert_eq!(code, 0, "{v:#}");

    // Propagating a file without a label is refused, naming the fix.
    let bare = s.dir.path().join("bare.png");
    std::fs::write(
        &bare,
        provenance_common::image_bytes(image::ImageFormat::Png, 64, 64, 1),
    )
    .unwrap();
    let (code, text) = run(
        &s,
        &[
            "sign",
            "bare.png",
            "-o",
            "x.png",
            "--key",
            "k/platform.key",
            "--propagator",
            "P",
            "--propagate-id",
            "1",
        ],
    );
    assert_eq!(code, 2);
    assert!(text.contains("no GB 45438 label to propagate"), "{text}");
    assert!(!s.dir.path().join("x.png").exists());
}

#[test]
fn comply_names_what_is_missing() {
    let s = setup();
    let trust = s.trust.to_str().unwrap();
    // Unlabelled: both rules fail, exit 1, with reasons.
    let bare = s.dir.path().join("bare.jpg");
    std::fs::write(&bare, jpeg_with(256, 256, &[])).unwrap();
    let (code, v) = json_of(&s, &["comply", "bare.jpg", "--trust", trust, "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["compliant"], false);
    let why = |rule: usize, id: &str| -> (String, String) {
        let o = v["rules"][rule]["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap()
            .clone();
        (
            o["status"].as_str().unwrap().to_string(),
            o["why"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        why(0, "implicit-label"),
        (
            "failed".into(),
            "no GB 45438 AIGC label in the file's metadata".into()
        )
    );
    assert!(why(1, "machine-readable-marking")
        .1
        .contains("no C2PA manifest"));

    // Signed as AI with the XMP label but no visible label: EU met, GB not.
    let (code, text) = run(
        &s,
        &[
            "sign",
            "bare.jpg",
            "-o",
            "ai.jpg",
            "--key",
            "k/maker.key",
            "--ai-generated",
            "--gb45438",
            "Example AI Co",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let (code, v) = json_of(
        &s,
        &[
            "comply",
            "ai.jpg",
            "--trust",
            trust,
            "--json",
            "--rules",
            "eu-ai-act",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = json_of(
        &s,
        &[
            "comply", "ai.jpg", "--trust", trust, "--json", "--rules", "gb45438",
        ],
    );
    assert_eq!(code, 1, "{v:#}");
    let explicit = &v["rules"][0]["obligations"][1];
    assert_eq!(explicit["id"], "explicit-label");
    assert_eq!(explicit["status"], "failed");

    // A label a hand edit made malformed: the finding says what is wrong.
    let bad = s.dir.path().join("bad.jpg");
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>{"Label":"9","ContentProducer":""}</TC260:AIGC></rdf:Description>"#,
    );
    std::fs::write(&bad, jpeg_with(64, 64, &[app1_xmp(&xmp)])).unwrap();
    let (code, v) = json_of(&s, &["comply", "bad.jpg", "--json", "--rules", "gb45438"]);
    assert_eq!(code, 1);
    let o = &v["rules"][0]["obligations"][0];
    let why = o["why"].as_str().unwrap();
    assert!(
        why.contains("Label is \"9\"") && why.contains("ContentProducer is empty"),
        "{why}"
    );

    // Unknown rules and unreadable files are errors (exit 2).
    let (code, text) = run(&s, &["comply", "bare.jpg", "--rules", "gdpr"]);
    assert_eq!(code, 2);
    assert!(text.contains("unknown rule"), "{text}");
    let (code, _) = run(&s, &["comply", "missing.jpg"]);
    assert_eq!(code, 2);
}

#[test]
fn resigning_a_signed_file_with_a_label_keeps_it_as_parent() {
    let s = setup();
    let bare = s.dir.path().join("bare.jpg");
    std::fs::write(&bare, jpeg_with(300, 200, &[])).unwrap();
    let (code, text) = run(
        &s,
        &[
            "sign",
            "bare.jpg",
            "-o",
            "a.jpg",
            "--key",
            "k/maker.key",
            "--ai-generated",
        ],
    );
    assert_eq!(code, 0, "{text}");
    // The XMP DigitalSourceType is written with --ai-generated alone.
    assert_eq!(
        exif_tag(&s.dir.path().join("a.jpg"), "XMP-iptcExt:DigitalSourceType"),
        IPTC_AI
    );
    let (code, text) = run(
        &s,
        &[
            "sign",
            "a.jpg",
            "-o",
            "b.jpg",
            "--key",
            "k/maker.key",
            "--gb45438",
            "Example AI Co",
            "--visible-label=人工智能生成",
            "--label-corner",
            "top-left",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let trust = s.trust.to_str().unwrap();
    let (code, v) = json_of(&s, &["verify", "b.jpg", "--trust", trust, "--json"]);
    assert_eq!(code, 0, "{v}");
    let m = &v["manifest"];
    assert_eq!(m["ingredients"][0]["relationship"], "parentOf");
    assert_eq!(m["ingredients"][0]["failures"], serde_json::json!([]));
    let acts: Vec<&str> = m["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(acts, ["c2pa.opened", "c2pa.edited", "c2pa.edited"]);
    assert_eq!(m["actions"][2]["explicit_label"]["corner"], "top-left");
    let (code, v) = json_of(&s, &["comply", "b.jpg", "--trust", trust, "--json"]);
    assert_eq!(code, 0, "{v:#}");
}
