//! Regression tests, each named after the issue whose wrong answer it pins
//! (`issue15_*`: verdicts that were wrong on real or hostile files).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod provenance_common;

use std::path::Path;

use hallmark::provenance::{self, SignOptions};
use hallmark::report::{CheckOptions, Checker, Hint, Verdict};
use provenance_common::{make_keys, trust_of, write_image};

fn checker(trust: Option<&Path>) -> Checker {
    Checker::new(&CheckOptions {
        trust: trust.map(Path::to_path_buf),
        no_classifier: true,
        ..CheckOptions::default()
    })
    .unwrap()
}

/// A PNG chunk with its CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let crc = crc32fast::hash(&c[4..]);
    c.extend(crc.to_be_bytes());
    c
}

/// A small PNG carrying an XMP packet (iTXt `XML:com.adobe.xmp`) that
/// declares `term` as its IPTC digital source type.
fn png_with_source_type(term: &str) -> Vec<u8> {
    let png = provenance_common::image_bytes(image::ImageFormat::Png, 64, 48, 3);
    let xmp = format!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/{term}"/></rdf:RDF></x:xmpmeta>"#
    );
    let mut data = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    data.extend_from_slice(xmp.as_bytes());
    // After the 8-byte signature and the 25-byte IHDR chunk.
    let mut out = png[..33].to_vec();
    out.extend(png_chunk(b"iTXt", &data));
    out.extend_from_slice(&png[33..]);
    out
}

/// Sign a fresh PNG declaring `term`; returns the signed file and the trust folder.
fn signed_declaring(dir: &Path, term: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let keys = make_keys(dir, "cam");
    let trust = trust_of(&keys);
    let input = write_image(dir, "in.png", image::ImageFormat::Png, 9);
    let out = dir.join(format!("{term}.png"));
    let mut opts = SignOptions::new(&keys.key);
    opts.source_type = Some(term.into());
    provenance::sign(&input, &out, &opts).unwrap();
    (out, trust.source.unwrap())
}

/// Issue 15 (3): a trusted manifest declaring computationalCapture
/// (smartphone photography) was `signed`, not `camera_capture`.
#[test]
fn issue15_computational_capture_is_a_camera_capture() {
    let dir = tempfile::tempdir().unwrap();
    let (file, trust) = signed_declaring(dir.path(), "computationalCapture");
    let r = checker(Some(&trust)).check_path(&file).unwrap();
    assert_eq!(r.verdict, Verdict::CameraCapture, "{}", r.summary);
}

/// Issue 15 (3): algorithmicallyEnhanced was `ai_edited` in `check` while
/// `verify` said `ai_generated: false`. IPTC: enhancement by a
/// non-generative algorithm, so an edit, not AI, in both.
#[test]
fn issue15_algorithmically_enhanced_is_an_edit_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (file, trust) = signed_declaring(dir.path(), "algorithmicallyEnhanced");
    let store = hallmark::keys::TrustStore::load_dir(&trust).unwrap();
    let m = provenance::verify_path(&file, &store).unwrap();
    assert!(m.valid && !m.ai_generated);
    let r = checker(Some(&trust)).check_path(&file).unwrap();
    assert_eq!(r.verdict, Verdict::Edited, "{}", r.summary);
}

/// Issue 15 (3): compositeSynthetic was `ai_generated` from XMP but `edited`
/// from a manifest. It is a composite with synthetic (not necessarily
/// generative) parts: an edit in both.
#[test]
fn issue15_composite_synthetic_means_the_same_in_xmp_and_manifests() {
    let r = checker(None)
        .check_bytes("x.png", &png_with_source_type("compositeSynthetic"))
        .unwrap();
    let m = r.metadata.ok().unwrap();
    let dst: Vec<_> = m
        .findings
        .iter()
        .filter(|f| f.field.ends_with("DigitalSourceType"))
        .collect();
    assert_eq!(dst.len(), 1, "{:?}", m.findings);
    assert_eq!(dst[0].indicates, Hint::Edited);
    assert_ne!(r.verdict, Verdict::AiGenerated, "{}", r.summary);

    let dir = tempfile::tempdir().unwrap();
    let (file, trust) = signed_declaring(dir.path(), "compositeSynthetic");
    let r = checker(Some(&trust)).check_path(&file).unwrap();
    assert_eq!(r.verdict, Verdict::Edited, "{}", r.summary);
}

/// compositeWithTrainedAlgorithmicMedia in XMP is an AI edit,
/// as it is in a manifest.
#[test]
fn composite_with_ai_in_xmp_is_ai_edited() {
    let r = checker(None)
        .check_bytes(
            "x.png",
            &png_with_source_type("compositeWithTrainedAlgorithmicMedia"),
        )
        .unwrap();
    assert_eq!(r.verdict, Verdict::AiEdited, "{}", r.summary);
}

/// Issue 15 (1): a JPEG cut to its first 3,000 bytes decoded silently (the
/// decoder fills the rest) and `check` gave `inconclusive`, scoring grey
/// fill. A damaged upload without a manifest is an error.
#[test]
fn issue15_truncated_upload_is_an_error_not_a_report() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/truncated-upload.jpg");
    let err = checker(None).check_path(&path).unwrap_err();
    assert!(matches!(err, hallmark::Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");
    // The one decoder refuses it too, so no engine sees partial pixels.
    let err = hallmark::media::decode_file(&path, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

/// Issue 15 (1): when a manifest can be judged, a truncated file is
/// reported (tampered), the damage is named at the top level, and the
/// partial pixels are never scored.
#[test]
fn issue15_truncated_signed_file_names_the_damage_and_skips_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path(), "cam");
    let input = write_image(dir.path(), "in.jpg", image::ImageFormat::Jpeg, 4);
    let signed = dir.path().join("signed.jpg");
    provenance::sign(&input, &signed, &SignOptions::new(&keys.key)).unwrap();
    let bytes = std::fs::read(&signed).unwrap();
    let cut = &bytes[..bytes.len() - 200];
    let r = checker(None).check_bytes("cut.jpg", cut).unwrap();
    assert_eq!(r.verdict, Verdict::Tampered, "{}", r.summary);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].starts_with("truncated"), "{:?}", r.warnings);
    assert!(r.summary.contains("truncated"), "{}", r.summary);
    for reason in [r.watermark.missing_reason(), r.dwtdct.missing_reason()] {
        assert!(
            reason.unwrap().contains("pixels not analysed"),
            "{reason:?}"
        );
    }
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["warnings"][0].as_str().unwrap().contains("truncated"));
}

/// Issue 15 (2): a signed PNG with one byte flipped in IDAT (its chunk CRC
/// no longer matches) was "unreadable" (exit 2). The manifest can be
/// located, so the damage is evidence: invalid, the file changed.
#[test]
fn issue15_tampered_png_is_invalid_not_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path(), "cam");
    let trust = trust_of(&keys);
    let input = write_image(dir.path(), "in.png", image::ImageFormat::Png, 5);
    let signed = dir.path().join("signed.png");
    provenance::sign(&input, &signed, &SignOptions::new(&keys.key)).unwrap();
    let mut bytes = std::fs::read(&signed).unwrap();
    let (idat, _) = provenance_common::png_chunk(&bytes, b"IDAT").unwrap();
    bytes[idat + 20] ^= 0x01;
    let tampered = dir.path().join("tampered.png");
    std::fs::write(&tampered, &bytes).unwrap();

    let r = provenance::verify_path(&tampered, &trust).unwrap();
    assert_eq!(r.state, provenance::State::Invalid, "{r:#?}");
    let reason = r.reason.unwrap();
    assert!(reason.contains("changed after signing"), "{reason}");
    assert!(r.damage.unwrap().contains("CRC"));

    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(["verify", "--trust"])
        .arg(trust.source.as_ref().unwrap())
        .arg(&tampered)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let r = checker(trust.source.as_deref())
        .check_path(&tampered)
        .unwrap();
    assert_eq!(r.verdict, Verdict::Tampered, "{}", r.summary);
}

/// Issue 15 (5): trust defaulted to `keys/` in the working directory, so a
/// downloaded folder shipping its own CA was trusted. Only `--trust` and the
/// per-user folder count, and the report names the store it used.
#[test]
fn issue15_a_keys_folder_in_the_working_directory_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (file, trust) = signed_declaring(dir.path(), "digitalCapture");
    // The downloaded folder: the image and a keys/ folder holding its CA.
    let work = dir.path().join("download");
    std::fs::create_dir_all(work.join("keys")).unwrap();
    for e in std::fs::read_dir(&trust).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, work.join("keys").join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(&file, work.join("photo.png")).unwrap();
    let empty_home = dir.path().join("home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let run = |config: &Path, args: &[&str]| {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .current_dir(&work)
            .env("HOME", &empty_home)
            .env("XDG_CONFIG_HOME", config)
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = run(
        &empty_home,
        &["check", "--no-classifier", "--json", "photo.png"],
    );
    assert_eq!(v["manifest"]["trusted"], false, "{v}");
    assert!(
        v["trust_store"].as_str().unwrap().starts_with("none"),
        "{v}"
    );
    let v = run(&empty_home, &["verify", "--json", "photo.png"]);
    assert_eq!(v["manifest"]["trusted"], false, "{v}");

    // The per-user folder is trusted, and named.
    let config = dir.path().join("config");
    let user = config.join("hallmark/trust");
    std::fs::create_dir_all(&user).unwrap();
    for e in std::fs::read_dir(&trust).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, user.join(p.file_name().unwrap())).unwrap();
    }
    let v = run(
        &config,
        &["check", "--no-classifier", "--json", "photo.png"],
    );
    assert_eq!(v["verdict"], "camera_capture", "{v}");
    assert!(
        v["trust_store"]
            .as_str()
            .unwrap()
            .contains("hallmark/trust"),
        "{v}"
    );
    let v = run(&config, &["verify", "--json", "photo.png"]);
    assert_eq!(v["manifest"]["trusted"], true, "{v}");
}

fn hallmark_cmd(cwd: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.current_dir(cwd);
    c
}

/// Issue 15 (6): errors printed their cause twice ("... (os error 2)" then
/// "caused by: ... (os error 2)") and leaked temp-file names.
#[test]
fn issue15_errors_are_one_line_without_repeats_or_temp_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = hallmark_cmd(dir.path())
        .args(["verify", "no-such.jpg"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");

    // An output folder that is a file: the temporary file cannot be made.
    let input = write_image(dir.path(), "in.png", image::ImageFormat::Png, 1);
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let out = hallmark_cmd(dir.path())
        .args([
            "watermark",
            "embed",
            "--payload",
            "0123456789abcdef",
            "-o",
            "file/out.png",
        ])
        .arg(&input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains(".hallmark-") && !err.contains(".tmp"),
        "{err}"
    );
}

/// Issue 15 (6): `watermark embed --force` overwrote its own input and
/// silently dropped an existing manifest.
#[test]
fn issue15_watermark_embed_keeps_its_input_and_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough to carry a watermark.
    let input = dir.path().join("in.png");
    std::fs::write(
        &input,
        provenance_common::image_bytes(image::ImageFormat::Png, 300, 300, 2),
    )
    .unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = hallmark_cmd(dir.path())
        .args([
            "watermark",
            "embed",
            "--force",
            "--payload",
            "0123456789abcdef",
            "-o",
        ])
        .arg(&input)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both input and output"));
    assert_eq!(std::fs::read(&input).unwrap(), before, "input modified");

    let keys = make_keys(dir.path(), "k");
    let signed = dir.path().join("signed.png");
    provenance::sign(&input, &signed, &SignOptions::new(&keys.key)).unwrap();
    let marked = dir.path().join("marked.png");
    let embed = |extra: &[&str]| {
        hallmark_cmd(dir.path())
            .args(["watermark", "embed", "--payload", "0123456789abcdef"])
            .args(extra)
            .arg("-o")
            .arg(&marked)
            .arg(&signed)
            .output()
            .unwrap()
    };
    let out = embed(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sign --watermark"), "{err}");
    assert!(!marked.exists());
    let out = embed(&["--drop-manifest"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not copied"));
}

/// Issue 15 (7): sidecars were read without a size limit, and `verify`
/// (error) and `check` (silently ignored) treated an unreadable one
/// differently. Now both refuse an oversized sidecar and say so.
#[test]
fn issue15_oversized_sidecar_is_refused_by_verify_and_check_alike() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_image(dir.path(), "photo.png", image::ImageFormat::Png, 3);
    let f = std::fs::File::create(dir.path().join("photo.c2pa")).unwrap();
    f.set_len(provenance::sidecar::MAX_SIDECAR_BYTES + 1)
        .unwrap();
    let out = hallmark_cmd(dir.path())
        .args(["verify"])
        .arg(&input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("photo.c2pa") && err.contains("limit"), "{err}");
    let r = checker(None).check_path(&input).unwrap();
    let why = r.manifest.missing_reason().unwrap();
    assert!(why.contains("photo.c2pa") && why.contains("limit"), "{why}");
}
