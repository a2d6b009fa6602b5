//! Metadata forensics on small files built here: PNG text chunks from each
//! generator, JPEG APP1 EXIF/XMP and APP11 JUMBF, WebP chunks, the GB 45438
//! label, and hostile inputs (truncations, mutations, a zip bomb).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod aigc_common;

use std::io::Cursor;

use hallmark::media::metadata::{self, Indicates, MetadataReport};
use proptest::prelude::*;

// ---- builders ---------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 128]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend(kind);
    c.extend(data);
    let mut crc_in = kind.to_vec();
    crc_in.extend(data);
    c.extend(crc32(&crc_in).to_be_bytes());
    c
}

/// A real PNG with `chunks` inserted after IHDR.
fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
    let png = encoded(image::ImageFormat::Png);
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    for c in chunks {
        out.extend(c);
    }
    out.extend(&png[ihdr_end..]);
    out
}

fn text(key: &str, value: &str) -> Vec<u8> {
    let mut d = key.as_bytes().to_vec();
    d.push(0);
    d.extend(value.as_bytes());
    chunk(b"tEXt", &d)
}

fn ztxt(key: &str, value: &[u8]) -> Vec<u8> {
    let mut d = key.as_bytes().to_vec();
    d.extend([0, 0]);
    d.extend(miniz_oxide::deflate::compress_to_vec_zlib(value, 6));
    chunk(b"zTXt", &d)
}

fn itxt(key: &str, value: &str, compressed: bool) -> Vec<u8> {
    let mut d = key.as_bytes().to_vec();
    d.extend([0, u8::from(compressed), 0, 0, 0]);
    if compressed {
        d.extend(miniz_oxide::deflate::compress_to_vec_zlib(
            value.as_bytes(),
            6,
        ));
    } else {
        d.extend(value.as_bytes());
    }
    chunk(b"iTXt", &d)
}

/// A real JPEG with `segments` (marker, payload) inserted after SOI.
fn jpeg_with(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    aigc_common::insert_segments(&encoded(image::ImageFormat::Jpeg), segments)
}

/// Little-endian TIFF: IFD0 entries, then an Exif IFD with its entries.
/// Entries are (tag, type, bytes).
fn tiff(ifd0: &[(u16, u16, Vec<u8>)], exif_ifd: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
    fn ifd(
        entries: &[(u16, u16, Vec<u8>)],
        at: usize,
        next_ptr: Option<usize>,
    ) -> (Vec<u8>, usize) {
        // Returns the IFD bytes (with its data) and where a pointer slot is.
        let n = entries.len() + usize::from(next_ptr.is_some());
        let mut data_off = at + 2 + 12 * n + 4;
        let mut head = (n as u16).to_le_bytes().to_vec();
        let mut blob: Vec<u8> = Vec::new();
        for (tag, typ, v) in entries {
            head.extend(tag.to_le_bytes());
            head.extend(typ.to_le_bytes());
            let unit = if *typ == 3 { 2 } else { 1 };
            head.extend(((v.len() / unit) as u32).to_le_bytes());
            if v.len() <= 4 {
                let mut inline = v.clone();
                inline.resize(4, 0);
                head.extend(inline);
            } else {
                head.extend((data_off as u32).to_le_bytes());
                blob.extend(v);
                data_off += v.len();
            }
        }
        let slot = at + head.len() + 8;
        if let Some(p) = next_ptr {
            head.extend(0x8769u16.to_le_bytes());
            head.extend(4u16.to_le_bytes());
            head.extend(1u32.to_le_bytes());
            head.extend((p as u32).to_le_bytes());
        }
        head.extend(0u32.to_le_bytes());
        head.extend(blob);
        (head, slot)
    }
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    let (first, _) = ifd(ifd0, 8, Some(0));
    let exif_at = 8 + first.len();
    let (first, _) = ifd(ifd0, 8, (!exif_ifd.is_empty()).then_some(exif_at));
    out.extend(first);
    if !exif_ifd.is_empty() {
        let (second, _) = ifd(exif_ifd, exif_at, None);
        out.extend(second);
    }
    out
}

fn ascii(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn xmp_packet(body: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    )
}

fn app1_xmp(xmp: &str) -> (u8, Vec<u8>) {
    let mut p = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    p.extend(xmp.as_bytes());
    (0xE1, p)
}

fn app1_exif(t: &[u8]) -> (u8, Vec<u8>) {
    let mut p = b"Exif\0\0".to_vec();
    p.extend(t);
    (0xE1, p)
}

fn ai(report: &MetadataReport) -> Vec<(&str, Option<&str>)> {
    report
        .findings_indicating(Indicates::Ai)
        .map(|f| (f.field.as_str(), f.generator.as_deref()))
        .collect()
}

const A1111: &str = "a photo of a cat, best quality\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1";

// ---- PNG generators ---------------------------------------------------------

#[test]
fn automatic1111_parameters_in_png() {
    let r = metadata::read(&png_with(&[text("parameters", A1111)])).unwrap();
    assert_eq!(r.format, Some("image/png"));
    assert_eq!(
        ai(&r),
        [(
            "PNG tEXt parameters",
            Some("Stable Diffusion web UI (AUTOMATIC1111-compatible)")
        )]
    );
    assert!(r.indicates_ai());
    assert!(r.findings[0].value.starts_with("a photo of a cat"));
    assert!(r.findings[0].value.chars().count() <= metadata::MAX_VALUE_CHARS + 1);
}

#[test]
fn forge_parameters_in_compressed_ztxt() {
    let forge = A1111.replace(
        "Version: v1.10.1",
        "Version: f2.0.1v1.10.1-previous-669-gdfdcbab6",
    );
    let r = metadata::read(&png_with(&[ztxt("parameters", forge.as_bytes())])).unwrap();
    assert_eq!(
        ai(&r),
        [("PNG zTXt parameters", Some("Stable Diffusion WebUI Forge"))]
    );
}

#[test]
fn comfyui_prompt_and_workflow() {
    let prompt = r#"{"3":{"inputs":{"seed":5,"steps":20,"cfg":8,"sampler_name":"euler"},"class_type":"KSampler"},"4":{"inputs":{"ckpt_name":"sd_xl_base_1.0.safetensors"},"class_type":"CheckpointLoaderSimple"}}"#;
    let workflow =
        r#"{"last_node_id":9,"nodes":[{"id":3,"type":"KSampler"}],"links":[],"version":0.4}"#;
    let r = metadata::read(&png_with(&[
        text("prompt", prompt),
        text("workflow", workflow),
    ]))
    .unwrap();
    assert_eq!(
        ai(&r),
        [
            ("PNG tEXt prompt", Some("ComfyUI")),
            ("PNG tEXt workflow", Some("ComfyUI"))
        ]
    );
    // A "prompt" that is not a ComfyUI graph is just text.
    let r = metadata::read(&png_with(&[text("prompt", "hello")])).unwrap();
    assert!(!r.indicates_ai());
}

#[test]
fn novelai_chunks() {
    let comment = r#"{"prompt": "1girl", "steps": 28, "height": 1216, "width": 832, "scale": 5.0, "uncond_scale": 1.0, "seed": 1, "sampler": "k_euler_ancestral", "uc": "lowres"}"#;
    let r = metadata::read(&png_with(&[
        text("Title", "NovelAI generated image"),
        text("Software", "NovelAI"),
        text("Source", "NovelAI Diffusion V4 4F49EC75"),
        text("Comment", comment),
    ]))
    .unwrap();
    let found = ai(&r);
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().all(|(_, g)| *g == Some("NovelAI")));
    // The JSON comment alone is enough.
    let r = metadata::read(&png_with(&[text("Comment", comment)])).unwrap();
    assert_eq!(r.ai_generator(), Some("NovelAI"));
}

#[test]
fn invokeai_chunks() {
    for key in ["invokeai_metadata", "sd-metadata", "invokeai_graph"] {
        let r = metadata::read(&png_with(&[itxt(
            key,
            r#"{"generation_mode":"txt2img"}"#,
            false,
        )]))
        .unwrap();
        assert_eq!(r.ai_generator(), Some("InvokeAI"), "{key}");
        assert_eq!(r.findings[0].field, format!("PNG iTXt {key}"));
    }
}

#[test]
fn midjourney_description() {
    let r = metadata::read(&png_with(&[
        text("Author", "u1234567890"),
        text(
            "Description",
            "a lighthouse at dawn --ar 3:2 --v 6.1 Job ID: 0c5d4a4f-1a2b-4c3d-9e8f-123456789abc",
        ),
    ]))
    .unwrap();
    assert_eq!(r.ai_generator(), Some("Midjourney"));
    // The author is shown, as context.
    assert!(r
        .findings
        .iter()
        .any(|f| f.field == "PNG tEXt Author" && f.indicates == Indicates::Unknown));
}

#[test]
fn xmp_digital_source_type_in_png_itxt() {
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>"#,
    );
    for compressed in [false, true] {
        let r = metadata::read(&png_with(&[itxt("XML:com.adobe.xmp", &xmp, compressed)])).unwrap();
        assert_eq!(
            r.digital_source_type.as_deref(),
            Some("trainedAlgorithmicMedia")
        );
        assert_eq!(
            ai(&r),
            [("PNG iTXt XMP Iptc4xmpExt:DigitalSourceType", None)]
        );
    }
}

#[test]
fn c2pa_cabx_chunk_is_detected_not_trusted() {
    let r = metadata::read(&png_with(&[chunk(
        b"caBX",
        b"\0\0\0\x10jumb\0\0\0\x08jumdc2pa",
    )]))
    .unwrap();
    assert!(r.c2pa_present);
    assert!(!r.indicates_ai());
}

#[test]
fn plain_png_has_no_findings() {
    let r = metadata::read(&encoded(image::ImageFormat::Png)).unwrap();
    assert_eq!(r.findings, []);
    assert!(!r.c2pa_present);
    assert_eq!(r.warnings, Vec::<String>::new());
}

// ---- JPEG -------------------------------------------------------------------

#[test]
fn camera_exif_in_jpeg() {
    let t = tiff(
        &[
            (0x010F, 2, ascii("Canon")),
            (0x0110, 2, ascii("Canon EOS R5")),
            (0x0131, 2, ascii("Firmware Version 1.8.1")),
        ],
        &[
            (0x9003, 2, ascii("2024:05:01 10:00:00")),
            (0x829A, 5, vec![1, 0, 0, 0, 200, 0, 0, 0]),
            (0x927C, 7, vec![1, 2, 3, 4, 5, 6, 7, 8]),
        ],
    );
    let r = metadata::read(&jpeg_with(&[app1_exif(&t)])).unwrap();
    let capture: Vec<_> = r
        .findings_indicating(Indicates::Capture)
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(
        capture,
        [
            "JPEG APP1 EXIF Make",
            "JPEG APP1 EXIF Model",
            "JPEG APP1 EXIF DateTimeOriginal",
            "JPEG APP1 EXIF MakerNote"
        ]
    );
    assert_eq!(
        r.findings[0].generator.as_deref(),
        Some("Canon EOS R5"),
        "the make is not repeated when the model starts with it"
    );
    assert!(!r.indicates_ai());
    let sw = r
        .findings
        .iter()
        .find(|f| f.field.ends_with("Software"))
        .unwrap();
    assert_eq!(
        (sw.value.as_str(), sw.indicates),
        ("Firmware Version 1.8.1", Indicates::Unknown)
    );
}

#[test]
fn photoshop_software_is_edited() {
    let t = tiff(
        &[(0x0131, 2, ascii("Adobe Photoshop 25.0 (Macintosh)"))],
        &[],
    );
    let r = metadata::read(&jpeg_with(&[app1_exif(&t)])).unwrap();
    assert_eq!(r.findings[0].indicates, Indicates::Edited);
    assert_eq!(r.findings[0].generator.as_deref(), Some("Adobe Photoshop"));
}

#[test]
fn a1111_parameters_in_exif_user_comment() {
    let mut uc = b"UNICODE\0".to_vec();
    for c in A1111.encode_utf16() {
        uc.extend(c.to_be_bytes());
    }
    let t = tiff(&[], &[(0x9286, 7, uc)]);
    let r = metadata::read(&jpeg_with(&[app1_exif(&t)])).unwrap();
    assert_eq!(
        ai(&r),
        [(
            "JPEG APP1 EXIF UserComment",
            Some("Stable Diffusion web UI (AUTOMATIC1111-compatible)")
        )]
    );
}

#[test]
fn gb45438_aigc_label_in_jpeg_xmp() {
    let json = r#"{"Label":"1","ContentProducer":"001191110108MA01KP2T5U00000","ProduceID":"20250901-abc","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#;
    let escaped = json.replace('"', "&quot;");
    let xmp = xmp_packet(&format!(
        r#"<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" TC260:AIGC="{escaped}"/>"#
    ));
    let r = metadata::read(&jpeg_with(&[app1_xmp(&xmp)])).unwrap();
    let label = r.aigc.as_ref().unwrap();
    assert_eq!(label.label.as_deref(), Some("1"));
    assert_eq!(label.produce_id.as_deref(), Some("20250901-abc"));
    let f = &r.findings[0];
    assert_eq!(f.field, "JPEG APP1 XMP TC260:AIGC (GB 45438-2025)");
    assert_eq!(f.indicates, Indicates::Ai);
    assert_eq!(
        f.generator.as_deref(),
        Some("001191110108MA01KP2T5U00000 (GB 45438 ContentProducer)")
    );
}

#[test]
fn gb45438_element_and_struct_forms() {
    let json = r#"{"Label":"2","ContentProducer":"ProducerX"}"#;
    let xmp = xmp_packet(&format!(
        r#"<rdf:Description rdf:about=""><TC260:AIGC>{json}</TC260:AIGC></rdf:Description>"#
    ));
    let r = metadata::read(&jpeg_with(&[app1_xmp(&xmp)])).unwrap();
    assert_eq!(r.aigc.as_ref().unwrap().label.as_deref(), Some("2"));
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about=""><TC260:AIGC rdf:parseType="Resource"><TC260:Label>1</TC260:Label><TC260:ContentProducer>ProducerY</TC260:ContentProducer></TC260:AIGC></rdf:Description>"#,
    );
    let r = metadata::read(&jpeg_with(&[app1_xmp(&xmp)])).unwrap();
    assert_eq!(
        r.aigc.as_ref().unwrap().content_producer.as_deref(),
        Some("ProducerY")
    );
    assert!(r.indicates_ai());
    // In a PNG text chunk.
    let r = metadata::read(&png_with(&[text("AIGC", json)])).unwrap();
    assert_eq!(
        r.aigc.as_ref().unwrap().content_producer.as_deref(),
        Some("ProducerX")
    );
}

#[test]
fn iptc_capture_and_edit_codes_and_creator_tool() {
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about=""><Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture</Iptc4xmpExt:DigitalSourceType><xmp:CreatorTool>Adobe Firefly</xmp:CreatorTool></rdf:Description>"#,
    );
    let r = metadata::read(&jpeg_with(&[app1_xmp(&xmp)])).unwrap();
    assert_eq!(r.digital_source_type.as_deref(), Some("digitalCapture"));
    assert_eq!(r.findings[0].indicates, Indicates::Capture);
    assert_eq!(r.ai_generator(), Some("Adobe Firefly"));
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about=""><Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"/></rdf:Description>"#,
    );
    let r = metadata::read(&jpeg_with(&[app1_xmp(&xmp)])).unwrap();
    assert_eq!(
        r.digital_source_type.as_deref(),
        Some("compositeWithTrainedAlgorithmicMedia")
    );
    assert!(r.indicates_ai());
}

#[test]
fn c2pa_app11_jumbf_in_jpeg() {
    let mut p = b"JP\0\x01\0\0\0\x01".to_vec();
    p.extend(b"\0\0\0\x20jumb\0\0\0\x18jumdc2pa\0\x11\0\x10\x80\0\xaa\08\x9bq");
    let r = metadata::read(&jpeg_with(&[(0xEB, p)])).unwrap();
    assert!(r.c2pa_present);
    assert_eq!(r.findings.len(), 1);
    // APP11 JUMBF without a c2pa box is something else.
    let r = metadata::read(&jpeg_with(&[(0xEB, b"JP\0\x01other".to_vec())])).unwrap();
    assert!(!r.c2pa_present);
}

// ---- WebP -------------------------------------------------------------------

#[test]
fn webp_exif_and_xmp_chunks() {
    let webp = encoded(image::ImageFormat::WebP);
    let mut body = webp[12..].to_vec();
    let t = tiff(&[(0x0131, 2, ascii("Midjourney"))], &[]);
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about="" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>"#,
    );
    for (kind, data) in [(b"EXIF", t), (b"XMP ", xmp.into_bytes())] {
        body.extend(kind);
        body.extend((data.len() as u32).to_le_bytes());
        body.extend(&data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut file = b"RIFF".to_vec();
    file.extend(((body.len() + 4) as u32).to_le_bytes());
    file.extend(b"WEBP");
    file.extend(body);
    let r = metadata::read(&file).unwrap();
    assert_eq!(r.format, Some("image/webp"));
    assert_eq!(
        ai(&r),
        [
            ("WebP EXIF Software", Some("Midjourney")),
            ("WebP XMP Iptc4xmpExt:DigitalSourceType", None)
        ]
    );
}

// ---- serialisation ----------------------------------------------------------

#[test]
fn report_serialises_with_the_documented_fields() {
    let r = metadata::read(&png_with(&[text("parameters", A1111)])).unwrap();
    let j = serde_json::to_value(&r).unwrap();
    let f = &j["findings"][0];
    assert_eq!(f["field"], "PNG tEXt parameters");
    assert_eq!(f["indicates"], "ai");
    assert!(f["generator"].as_str().unwrap().contains("AUTOMATIC1111"));
    assert!(f["value"].as_str().unwrap().starts_with("a photo"));
    assert_eq!(j["c2pa_present"], false);
}

// ---- hostile input ----------------------------------------------------------

#[test]
fn ztxt_bomb_is_capped() {
    let bomb = vec![b'A'; 64 << 20];
    let file = png_with(&[ztxt("parameters", &bomb)]);
    assert!(file.len() < 1 << 20);
    let t = std::time::Instant::now();
    let r = metadata::read(&file).unwrap();
    assert!(t.elapsed().as_secs() < 5);
    assert!(
        r.warnings.iter().any(|w| w.contains("zTXt")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn damaged_containers_keep_earlier_findings() {
    let mut file = png_with(&[text("parameters", A1111), chunk(b"tEXt", b"x\0y")]);
    // Corrupt the second text chunk's length to run past the end.
    let second = 8 + 25 + 12 + "parameters".len() + 1 + A1111.len();
    file[second..second + 4].copy_from_slice(&0x7FFF_FFF0u32.to_be_bytes());
    let r = metadata::read(&file).unwrap();
    assert!(r.indicates_ai());
    assert!(
        r.warnings.iter().any(|w| w.contains("past the end")),
        "{:?}",
        r.warnings
    );
}

fn samples() -> Vec<Vec<u8>> {
    let xmp = xmp_packet(
        r#"<rdf:Description rdf:about="" TC260:AIGC="{&quot;Label&quot;:&quot;1&quot;}" Iptc4xmpExt:DigitalSourceType="x/trainedAlgorithmicMedia"><dc:description><rdf:Alt><rdf:li>hi</rdf:li></rdf:Alt></dc:description></rdf:Description>"#,
    );
    let t = tiff(
        &[
            (0x010F, 2, ascii("Canon")),
            (0x02BC, 7, xmp.clone().into_bytes()),
        ],
        &[(
            0x9286,
            7,
            b"ASCII\0\0\0Steps: 1, Sampler: x, Seed: 2".to_vec(),
        )],
    );
    vec![
        png_with(&[
            text("parameters", A1111),
            itxt("XML:com.adobe.xmp", &xmp, true),
            chunk(b"eXIf", &t),
            ztxt("Comment", b"{\"steps\":1}"),
        ]),
        jpeg_with(&[
            app1_exif(&t),
            app1_xmp(&xmp),
            (0xEB, b"JP\0\x01c2pa".to_vec()),
            (0xFE, b"comment".to_vec()),
        ]),
        t.clone(),
    ]
}

#[test]
fn every_truncation_reads_without_panicking() {
    for s in samples() {
        let full = metadata::read(&s).unwrap();
        assert!(!full.findings.is_empty());
        for n in 0..s.len() {
            let _ = metadata::read(&s[..n]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_files_never_panic(which in 0usize..3, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16)) {
        let mut s = samples().swap_remove(which);
        for (at, byte) in edits {
            let i = at % s.len();
            s[i] = byte;
        }
        let _ = metadata::read(&s);
    }

    #[test]
    fn garbage_after_magic_never_panics(magic in 0usize..5, tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut s = [&b"\x89PNG\r\n\x1a\n"[..], b"\xFF\xD8\xFF", b"RIFF\0\0\0\0WEBP", b"II*\0", b"MM\0*"][magic].to_vec();
        s.extend(tail);
        let _ = metadata::read(&s);
    }
}
