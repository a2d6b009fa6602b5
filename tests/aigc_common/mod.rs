//! Shared helpers for the AI-label tests: JPEGs built segment by segment
//! (large EXIF, multi-segment ICC profiles, XMP), and exiftool, the
//! independent reader the round trips are checked with.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;
use std::process::Command;

/// A JPEG (`w` x `h`, textured) with `segments` (marker, payload) after SOI.
pub fn jpeg_with(w: u32, h: u32, segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 3) as u8, ((x + y) * 2) as u8])
    });
    let mut jpg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    insert_segments(&jpg, segments)
}

/// `jpg` with `segments` (marker, payload) inserted after SOI.
pub fn insert_segments(jpg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = jpg[..2].to_vec();
    for (marker, payload) in segments {
        out.extend([0xFF, *marker]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
    }
    out.extend(&jpg[2..]);
    out
}

/// An XMP packet around rdf:Description bodies.
pub fn xmp_packet(body: &str) -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">{body}</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}

/// An APP1 XMP segment.
pub fn app1_xmp(xmp: &str) -> (u8, Vec<u8>) {
    let mut p = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    p.extend(xmp.as_bytes());
    (0xE1, p)
}

/// An APP1 EXIF segment: little-endian TIFF, IFD0 with Make, Artist and
/// an ImageDescription of `description_len` bytes (a large EXIF block).
pub fn app1_exif(description_len: usize) -> (u8, Vec<u8>) {
    let entries: Vec<(u16, Vec<u8>)> = vec![
        (0x010E, {
            let mut d = vec![b'D'; description_len];
            d.push(0);
            d
        }),
        (0x010F, b"Canon\0".to_vec()),
        (0x013B, b"Ada Lovelace\0".to_vec()),
    ];
    let mut t = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    let n = entries.len();
    let mut data_off = 8 + 2 + 12 * n + 4;
    let mut head = (n as u16).to_le_bytes().to_vec();
    let mut blob: Vec<u8> = Vec::new();
    for (tag, v) in &entries {
        head.extend(tag.to_le_bytes());
        head.extend(2u16.to_le_bytes()); // ASCII
        head.extend((v.len() as u32).to_le_bytes());
        head.extend((data_off as u32).to_le_bytes());
        blob.extend(v);
        data_off += v.len();
    }
    head.extend(0u32.to_le_bytes());
    t.extend(head);
    t.extend(blob);
    let mut p = b"Exif\0\0".to_vec();
    p.extend(t);
    (0xE1, p)
}

/// An ICC profile of about `size` bytes (a valid header, one private tag
/// holding the bulk) as APP2 `ICC_PROFILE` segments.
pub fn app2_icc(size: usize) -> Vec<(u8, Vec<u8>)> {
    let body_len = size.max(200);
    let mut icc = vec![0u8; body_len];
    icc[..4].copy_from_slice(&(body_len as u32).to_be_bytes());
    icc[4..8].copy_from_slice(b"none");
    icc[8] = 4; // version 4.3
    icc[9] = 0x30;
    icc[12..16].copy_from_slice(b"mntr");
    icc[16..20].copy_from_slice(b"RGB ");
    icc[20..24].copy_from_slice(b"XYZ ");
    icc[36..40].copy_from_slice(b"acsp");
    icc[128..132].copy_from_slice(&1u32.to_be_bytes()); // one tag
    icc[132..136].copy_from_slice(b"zzzz");
    icc[136..140].copy_from_slice(&144u32.to_be_bytes());
    icc[140..144].copy_from_slice(&((body_len - 144) as u32).to_be_bytes());
    for (i, b) in icc[144..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let chunks: Vec<&[u8]> = icc.chunks(60_000).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut p = b"ICC_PROFILE\0".to_vec();
            p.push(i as u8 + 1);
            p.push(chunks.len() as u8);
            p.extend(*c);
            (0xE2, p)
        })
        .collect()
}

/// Run exiftool (scripts/test.sh installs it through scripts/apt_install.sh;
/// its absence fails the test).
pub fn exiftool(args: &[&str]) -> String {
    let out = Command::new("exiftool")
        .args(args)
        .output()
        .expect("exiftool is missing: bash scripts/apt_install.sh libimage-exiftool-perl");
    assert!(
        out.status.success(),
        "exiftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One tag's value as exiftool prints it (`-s3`), e.g. `XMP-TC260:AIGC`.
pub fn exif_tag(file: &Path, tag: &str) -> String {
    exiftool(&["-s3", &format!("-{tag}"), file.to_str().unwrap()])
        .trim_end()
        .to_string()
}

/// The validation state (`Trusted`, `Valid`, `Invalid`) the C2PA SDK's
/// Python binding (c2pa-python, from scripts/requirements.txt) gives `file`
/// with `anchor` as its only trust anchor: a reader independent of
/// hallmark's own verifier. Its absence fails the test.
pub fn c2pa_sdk_state(file: &Path, anchor: &Path) -> String {
    const READ: &str = "import c2pa, json, sys
ctx = c2pa.Context.from_dict({'verify': {'verify_trust': True},
                              'trust': {'trust_anchors': open(sys.argv[2]).read()}})
r = json.loads(c2pa.Reader(sys.argv[1], context=ctx).json())
print(r.get('validation_state'))
print(json.dumps(r.get('validation_results', {}).get('activeManifest', {}).get('failure', [])))";
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(py)
        .args(["-c", READ])
        .arg(file)
        .arg(anchor)
        .output()
        .expect("python3 is missing");
    assert!(
        out.status.success(),
        "c2pa-python (bash scripts/setup.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}
