//! The visible label, measured from the rendered pixels: text height at
//! least 5% of the shorter side on images from 256 px to 8K, and a WCAG
//! contrast of at least 4.5:1 between the text and its plate on white,
//! black, grey and noisy backgrounds. The measurement knows nothing of how
//! the label was drawn: it diffs the image against the original to find
//! the plate, then classes plate pixels as text or background by
//! brightness.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod aigc_common;

use hallmark::label::{self, contrast, Corner, VisibleLabel};
use hallmark::media::container::{self, Tag};
use image::{DynamicImage, RgbImage};

#[derive(Debug)]
struct Measured {
    /// Rows of the changed region holding text pixels.
    text_height: u32,
    /// Contrast of the dimmest text core pixel against the brightest plate
    /// pixel (two or more pixels from any text).
    contrast: f64,
    /// The changed region (x0, y0, x1, y1), inclusive.
    region: (u32, u32, u32, u32),
}

fn measure(before: &RgbImage, after: &RgbImage) -> Measured {
    let (w, h) = before.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in after.enumerate_pixels() {
        if p != before.get_pixel(x, y) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    assert!(x0 <= x1, "nothing was drawn");
    // Text pixels are bright (white text), plate pixels dark: the plate
    // darkens every background to at most a quarter of its brightness, so
    // a pixel of luminance over 0.3 is text.
    let lum = |p: &image::Rgb<u8>| contrast::luminance(p.0);
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let is_text: Vec<bool> = (y0..=y1)
        .flat_map(|y| (x0..=x1).map(move |x| (x, y)))
        .map(|(x, y)| lum(after.get_pixel(x, y)) > 0.3)
        .collect();
    let text_at = |x: u32, y: u32| is_text[(y * bw + x) as usize];
    let (mut first, mut last) = (None, 0);
    let mut plate_max = 0.0f64;
    let mut plate_rgb = [0u8; 3];
    let mut text_min = 1.0f64;
    let mut text_rgb = [255u8; 3];
    for y in 0..bh {
        let mut row_has_text = false;
        for x in 0..bw {
            let p = after.get_pixel(x0 + x, y0 + y);
            let l = lum(p);
            if text_at(x, y) {
                row_has_text = true;
                // Core text pixels (fully covered) are the text colour.
                if l < text_min && l > 0.95 {
                    text_min = l;
                    text_rgb = p.0;
                }
                continue;
            }
            // Plate: pixels two or more pixels away from any text pixel
            // (anti-aliased glyph edges are neither text nor plate).
            let near_text = (y.saturating_sub(2)..=(y + 2).min(bh - 1))
                .any(|v| (x.saturating_sub(2)..=(x + 2).min(bw - 1)).any(|u| text_at(u, v)));
            if !near_text && l > plate_max {
                plate_max = l;
                plate_rgb = p.0;
            }
        }
        if row_has_text {
            first.get_or_insert(y0 + y);
            last = y0 + y;
        }
    }
    let first = first.expect("no text pixels");
    Measured {
        text_height: last - first + 1,
        contrast: contrast::ratio(text_rgb, plate_rgb),
        region: (x0, y0, x1, y1),
    }
}

fn background(kind: &str, w: u32, h: u32) -> RgbImage {
    match kind {
        "white" => RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255])),
        "black" => RgbImage::from_pixel(w, h, image::Rgb([0, 0, 0])),
        "grey" => RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128])),
        _ => {
            // Deterministic noise over the whole range, colours included.
            let mut s = 0x9E37_79B9_7F4A_7C15u64;
            RgbImage::from_fn(w, h, |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                image::Rgb([s as u8, (s >> 8) as u8, (s >> 16) as u8])
            })
        }
    }
}

#[test]
fn text_height_and_contrast_from_256_px_to_8k() {
    let sizes = [
        (256, 256),
        (256, 2000),
        (640, 480),
        (1080, 1920),
        (1920, 1080),
        (4096, 2160),
        (7680, 4320),
    ];
    let mut lines = Vec::new();
    for (i, &(w, h)) in sizes.iter().enumerate() {
        for (j, text) in [label::DEFAULT_TEXT, label::LONG_TEXT].iter().enumerate() {
            // Every background on the small sizes, one per size for the big.
            let kinds: &[&str] = if w * h <= 1920 * 1080 {
                &["white", "black", "grey", "noise"]
            } else {
                [&["white"][..], &["noise"][..]][(i + j) % 2]
            };
            for kind in kinds {
                let before = background(kind, w, h);
                let mut img = DynamicImage::ImageRgb8(before.clone());
                let corner = Corner::ALL[(i + j) % 4].0;
                let placed =
                    label::draw(&mut img, &VisibleLabel::new(text, corner).unwrap(), 1).unwrap();
                let m = measure(&before, &img.to_rgb8());
                let short = w.min(h);
                let ratio = f64::from(m.text_height) / f64::from(short);
                lines.push(format!(
                    "{w}x{h} {text} {kind}: text {} px = {:.2}% of {short}, contrast {:.1}:1",
                    m.text_height,
                    ratio * 100.0,
                    m.contrast
                ));
                assert!(ratio >= 0.05, "{}", lines.last().unwrap());
                assert!(m.contrast >= 4.5, "{}", lines.last().unwrap());
                // What the manifest records is what the pixels show.
                assert!(
                    placed.text_height.abs_diff(m.text_height) <= 1,
                    "recorded {} measured {}",
                    placed.text_height,
                    m.text_height
                );
                // The label sits in its corner: within 5% of the two edges.
                let near = |a: u32, edge: u32| a.abs_diff(edge) <= short / 20 + 2;
                let (x0, y0, x1, y1) = m.region;
                let ok = match corner {
                    Corner::TopLeft => near(x0, 0) && near(y0, 0),
                    Corner::TopRight => near(x1, w - 1) && near(y0, 0),
                    Corner::BottomLeft => near(x0, 0) && near(y1, h - 1),
                    Corner::BottomRight => near(x1, w - 1) && near(y1, h - 1),
                };
                assert!(ok, "{corner:?} label at {:?} in {w}x{h}", m.region);
            }
        }
    }
    println!("{}", lines.join("\n"));
}

#[test]
fn labelled_files_keep_format_and_size() {
    for (fmt, ext) in [
        (image::ImageFormat::Png, "png"),
        (image::ImageFormat::Jpeg, "jpg"),
        (image::ImageFormat::WebP, "webp"),
    ] {
        let img = DynamicImage::ImageRgb8(background("noise", 512, 384));
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), fmt)
            .unwrap();
        let (out, placed) =
            label::label_bytes(&bytes, &VisibleLabel::default(), &Default::default()).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!(image::guess_format(&out).unwrap(), fmt, "{ext}");
        assert_eq!((back.width(), back.height()), (512, 384), "{ext}");
        assert!(placed.height_ratio >= 0.05);
        if fmt != image::ImageFormat::Jpeg {
            // Lossless formats: the measurement holds on the decoded file.
            let m = measure(&img.to_rgb8(), &back.to_rgb8());
            assert!(f64::from(m.text_height) / 384.0 >= 0.05, "{ext}: {m:?}");
            assert!(m.contrast >= 4.5, "{ext}: {m:?}");
        }
    }
}

#[test]
fn labelling_carries_exif_icc_and_xmp_over() {
    use aigc_common::*;
    let mut segs = vec![app1_exif(5_000)];
    segs.extend(app2_icc(70_000));
    segs.push(app1_xmp(&xmp_packet(
        r#"<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Editor"/>"#,
    )));
    segs.push((0xFE, b"a comment".to_vec()));
    let input = jpeg_with(400, 300, &segs);
    let (out, _) =
        label::label_bytes(&input, &VisibleLabel::default(), &Default::default()).unwrap();
    let meta = |b: &[u8]| -> Vec<Vec<u8>> {
        let s = container::walk(b).unwrap();
        s.segments
            .iter()
            .filter(|g| matches!(g.tag, Tag::Jpeg(0xE1 | 0xE2 | 0xFE)))
            .map(|g| b[g.range.clone()].to_vec())
            .collect()
    };
    assert_eq!(meta(&out).len(), 5, "EXIF, two ICC segments, XMP, comment");
    assert_eq!(meta(&out), meta(&input));
    assert_ne!(out, input, "the pixels changed");
}
