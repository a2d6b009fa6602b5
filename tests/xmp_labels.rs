//! Writing XMP labels never corrupts what a file carries (large EXIF, ICC
//! profiles over several segments, JPEG extended XMP), and reading labels
//! from hostile or odd XMP gives clear findings, never a panic: malformed
//! XML, a value that is not JSON, JSON HTML-escaped once more, the label
//! as an attribute or an element, oversized packets, duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod aigc_common;

use aigc_common::*;
use hallmark::media::container::{self, jpeg, rewrite, Role, Segment, Tag};
use hallmark::media::metadata::{self, aigc};
use hallmark::media::xmp_write::{self, Property, XMP_NOTE_NS};

const LABEL: &str = r#"{"Label":"1","ContentProducer":"P","ProduceID":"id-1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#;

fn aigc_prop(value: &str) -> Property {
    Property::new(
        aigc::TC260_NS,
        aigc::TC260_PREFIX,
        aigc::AIGC_PROPERTY,
        value,
    )
}

/// The bytes of every segment that is not XMP, in order.
fn non_xmp(bytes: &[u8]) -> Vec<Vec<u8>> {
    let s = container::walk(bytes).unwrap();
    assert!(s.damage.is_none(), "{:?}", s.damage);
    s.segments
        .iter()
        .filter(|g: &&Segment| !matches!(g.role, Role::Xmp | Role::XmpExtension))
        .map(|g| bytes[g.range.clone()].to_vec())
        .collect()
}

fn standard_xmp(bytes: &[u8]) -> String {
    let s = container::walk(bytes).unwrap();
    let mut p = rewrite::xmp_packets(bytes, &s).unwrap();
    assert_eq!(p.standard.len(), 1);
    p.standard.remove(0)
}

#[test]
fn large_exif_and_icc_are_kept_byte_for_byte() {
    let mut segs = vec![app1_exif(60_000)];
    segs.extend(app2_icc(150_000));
    segs.push(app1_xmp(&xmp_packet(
        r#"<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Editor"/>"#,
    )));
    let input = jpeg_with(320, 240, &segs);
    let out = xmp_write::set_properties(&input, &[aigc_prop(LABEL)]).unwrap();
    assert_eq!(non_xmp(&out), non_xmp(&input));
    let x = standard_xmp(&out);
    assert_eq!(
        xmp_write::property_values(&x, "http://ns.adobe.com/xap/1.0/", "CreatorTool").unwrap(),
        ["Editor"]
    );
    let r = metadata::read(&out).unwrap();
    assert_eq!(r.aigc.unwrap().produce_id.as_deref(), Some("id-1"));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // The pixels decode as before.
    let a = image::load_from_memory(&input).unwrap().to_rgb8();
    let b = image::load_from_memory(&out).unwrap().to_rgb8();
    assert_eq!(a, b);
}

#[test]
fn extended_xmp_is_kept_and_its_guid_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ext.jpg");
    std::fs::write(&path, jpeg_with(128, 96, &[app1_exif(100)])).unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "extended words ".repeat(8000)).unwrap();
    exiftool(&[
        "-q",
        "-overwrite_original",
        &format!("-XMP-dc:Description<={}", big.display()),
        path.to_str().unwrap(),
    ]);
    let input = std::fs::read(&path).unwrap();
    let s = container::walk(&input).unwrap();
    let ext_before = jpeg::extended_xmp(&input, &s);
    assert_eq!(ext_before.len(), 1);
    assert!(ext_before[0].packet.is_ok());

    let out = xmp_write::set_properties(&input, &[aigc_prop(LABEL)]).unwrap();
    let s = container::walk(&out).unwrap();
    let ext_after = jpeg::extended_xmp(&out, &s);
    assert_eq!(ext_after, ext_before, "extended XMP changed");
    let guid =
        xmp_write::property_values(&standard_xmp(&out), XMP_NOTE_NS, "HasExtendedXMP").unwrap();
    assert_eq!(guid, [ext_after[0].guid.clone()]);
    assert_eq!(
        rewrite::extended_guid(ext_after[0].packet.as_ref().unwrap()),
        ext_after[0].guid
    );
    // exiftool reads both parts and finds the MD5 right (no warning).
    std::fs::write(&path, &out).unwrap();
    let x = exiftool(&["-X", path.to_str().unwrap()]);
    assert!(
        x.contains(&"extended words ".repeat(100)),
        "extended part lost"
    );
    assert!(x.contains("XMP-TC260:Aigc"), "{x}");
    assert!(!x.contains("Warning"), "{x}");
    // Our reader sees the label and the description.
    let r = metadata::read(&out).unwrap();
    assert!(r.aigc.is_some());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn a_full_standard_packet_spills_into_new_extended_xmp() {
    // A standard packet just under the 65,504-byte limit: adding the label
    // must move the big property to extended XMP, with a fresh GUID.
    let packet = |desc: &str| {
        xmp_packet(&format!(
            r#"<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Editor"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">{desc}</rdf:li></rdf:Alt></dc:description></rdf:Description>"#
        ))
    };
    let desc = "d".repeat(rewrite::MAX_JPEG_XMP - 100 - packet("").len());
    let xmp = packet(&desc);
    assert!(xmp.len() < rewrite::MAX_JPEG_XMP);
    let input = jpeg_with(64, 64, &[app1_exif(10), app1_xmp(&xmp)]);
    let out = xmp_write::set_properties(&input, &[aigc_prop(LABEL)]).unwrap();
    assert_eq!(non_xmp(&out), non_xmp(&input));
    let standard = standard_xmp(&out);
    assert!(standard.len() <= rewrite::MAX_JPEG_XMP);
    assert_eq!(
        xmp_write::property_values(&standard, aigc::TC260_NS, "AIGC").unwrap(),
        [LABEL]
    );
    let s = container::walk(&out).unwrap();
    let ext = jpeg::extended_xmp(&out, &s);
    assert_eq!(ext.len(), 1);
    let packet = ext[0].packet.as_ref().unwrap();
    assert_eq!(rewrite::extended_guid(packet), ext[0].guid);
    assert_eq!(
        xmp_write::property_values(&standard, XMP_NOTE_NS, "HasExtendedXMP").unwrap(),
        [ext[0].guid.clone()]
    );
    assert_eq!(
        xmp_write::property_values(packet, "http://purl.org/dc/elements/1.1/", "description")
            .unwrap(),
        std::slice::from_ref(&desc)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spill.jpg");
    std::fs::write(&path, &out).unwrap();
    let x = exiftool(&["-X", path.to_str().unwrap()]);
    assert!(
        x.contains(&desc),
        "exiftool does not see the moved property"
    );
    assert!(x.contains("XMP-TC260:Aigc") && x.contains("Editor"), "{x}");
    assert!(!x.contains("Warning"), "{x}");
}

#[test]
fn unparseable_or_ambiguous_xmp_is_not_rewritten() {
    for (xmp, why) in [
        (
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF>",
            "never closed",
        ),
        (
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>",
            "DOCTYPE",
        ),
    ] {
        let input = jpeg_with(32, 32, &[app1_xmp(xmp)]);
        let err = xmp_write::set_properties(&input, &[aigc_prop(LABEL)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot be merged") && err.contains(why),
            "{err}"
        );
    }
    let two = jpeg_with(
        32,
        32,
        &[app1_xmp(&xmp_packet("")), app1_xmp(&xmp_packet(""))],
    );
    let err = xmp_write::set_properties(&two, &[aigc_prop(LABEL)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 XMP packets"), "{err}");
    // A signed file is refused by the rewriter, naming the right command.
    let mut signed = jpeg_with(32, 32, &[]);
    // APP11: "JP", box instance En, sequence Z, then a JUMBF superbox whose
    // description box's UUID starts with "c2pa" (what the walker looks for).
    let mut store = b"JP\x00\x01\x00\x00\x00\x01".to_vec();
    store.extend(b"\0\0\0\x30jumb\0\0\0\x28jumdc2pa");
    store.extend([0u8; 24]);
    let mut seg = vec![0xFF, 0xEB];
    seg.extend(((store.len() + 2) as u16).to_be_bytes());
    seg.extend(&store);
    signed.splice(2..2, seg);
    let s = container::walk(&signed).unwrap();
    assert!(s.has_manifest(), "{s:?}");
    let err = rewrite::set_xmp(&signed, &xmp_packet(""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("hallmark sign re-signs"), "{err}");
    assert_eq!(
        container::walk(&rewrite::strip_manifest(&signed).unwrap())
            .unwrap()
            .segments
            .iter()
            .filter(|g| g.tag == Tag::Jpeg(0xEB))
            .count(),
        0
    );
}

#[test]
fn labels_read_in_every_form_with_clear_findings() {
    let ns = r#"xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/""#;
    let read =
        |body: String| metadata::read(&jpeg_with(16, 16, &[app1_xmp(&xmp_packet(&body))])).unwrap();
    // Element, attribute, HTML-escaped once more, and what sign writes.
    let esc = LABEL.replace('"', "&quot;");
    let double = LABEL.replace('"', "&amp;quot;");
    for body in [
        format!(
            r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>{LABEL}</TC260:AIGC></rdf:Description>"#
        ),
        format!(r#"<rdf:Description rdf:about="" {ns} TC260:AIGC="{esc}"/>"#),
        format!(
            r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>{double}</TC260:AIGC></rdf:Description>"#
        ),
    ] {
        let r = read(body.clone());
        let l = r.aigc.as_ref().unwrap_or_else(|| panic!("{body}: {r:?}"));
        assert_eq!(l.produce_id.as_deref(), Some("id-1"), "{body}");
        assert!(r.aigc_issues.is_empty(), "{:?}", r.aigc_issues);
    }
    let written = xmp_write::set_properties(&jpeg_with(16, 16, &[]), &[aigc_prop(LABEL)]).unwrap();
    assert_eq!(
        metadata::read(&written)
            .unwrap()
            .aigc
            .unwrap()
            .content_producer
            .as_deref(),
        Some("P")
    );

    // Not JSON: no label, a clear issue.
    let r = read(format!(
        r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>Label=1;Producer=X</TC260:AIGC></rdf:Description>"#
    ));
    assert!(r.aigc.is_none());
    assert!(
        r.aigc_issues[0].contains("not a GB 45438 JSON object"),
        "{:?}",
        r.aigc_issues
    );

    // Duplicates in one packet, disagreeing.
    let other = LABEL.replace("id-1", "id-2");
    let r = read(format!(
        r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>{LABEL}</TC260:AIGC><TC260:AIGC>{other}</TC260:AIGC></rdf:Description>"#
    ));
    let issues = r.aigc_issues.join(" | ");
    assert!(issues.contains("appears 2 times"), "{issues}");
    assert!(issues.contains("disagrees"), "{issues}");

    // Malformed XML: still read leniently, and the warning says so.
    let r = read(format!(
        r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>{LABEL}</TC260:AIGC><dc:broken></rdf:Description>"#
    ));
    assert!(r.aigc.is_some());
    assert!(
        r.warnings.iter().any(|w| w.contains("not well-formed")),
        "{:?}",
        r.warnings
    );

    // Oversized XMP (PNG allows it): capped, said, no panic.
    let huge = format!(
        r#"<rdf:Description rdf:about="" {ns}><TC260:AIGC>{LABEL}</TC260:AIGC><x:pad>{}</x:pad></rdf:Description>"#,
        "p".repeat(metadata::MAX_XMP_BYTES + 10)
    );
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let png = rewrite::set_xmp(&png, &xmp_packet(&huge)).unwrap();
    let r = metadata::read(&png).unwrap();
    assert!(r.aigc.is_some());
    assert!(
        r.warnings.iter().any(|w| w.contains("only the first")),
        "{:?}",
        r.warnings
    );
}
