//! Lossy WebP round trip through libwebp's own tools (`cwebp`, `dwebp`;
//! Debian package `webp`): the `image` crate encodes lossless WebP only.

use std::process::Command;

use hallmark::media::{decode_file, Limits};
use image::DynamicImage;

/// Whether `cwebp` and `dwebp` run.
pub fn available() -> bool {
    ["cwebp", "dwebp"].iter().all(|t| {
        Command::new(t)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Encode at `quality` with `cwebp` and decode with `dwebp`.
pub fn round_trip(img: &DynamicImage, quality: u8) -> DynamicImage {
    let dir = tempfile::tempdir().unwrap();
    let (src, webp, back) = (
        dir.path().join("in.png"),
        dir.path().join("x.webp"),
        dir.path().join("out.png"),
    );
    DynamicImage::ImageRgb8(img.to_rgb8()).save(&src).unwrap();
    let ok = Command::new("cwebp")
        .args(["-quiet", "-q", &quality.to_string()])
        .arg(&src)
        .arg("-o")
        .arg(&webp)
        .status()
        .unwrap()
        .success()
        && Command::new("dwebp")
            .arg("-quiet")
            .arg(&webp)
            .arg("-o")
            .arg(&back)
            .status()
            .unwrap()
            .success();
    assert!(ok, "cwebp/dwebp failed");
    decode_file(&back, &Limits::default()).unwrap()
}
