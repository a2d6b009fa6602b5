//! Shared helpers for the provenance tests: test images, keys, byte surgery.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::Cursor;
use std::path::{Path, PathBuf};

use hallmark::keys::{keygen, KeygenOptions, KeygenOutput, TrustStore};

/// A small test image of a given format, with some texture.
pub fn image_bytes(format: image::ImageFormat, w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 3 + u32::from(seed)) as u8,
            (y * 5) as u8,
            ((x ^ y) as u8).wrapping_add(seed),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    match format {
        image::ImageFormat::WebP => image::DynamicImage::ImageRgb8(img)
            .to_rgba8()
            .write_to(&mut out, format)
            .unwrap(),
        _ => img.write_to(&mut out, format).unwrap(),
    }
    out.into_inner()
}

pub fn write_image(dir: &Path, name: &str, format: image::ImageFormat, seed: u8) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, image_bytes(format, 64, 48, seed)).unwrap();
    p
}

pub fn make_keys(dir: &Path, name: &str) -> KeygenOutput {
    keygen(&KeygenOptions {
        name: name.into(),
        out_dir: dir.join(name),
        ca_key: None,
        force: false,
    })
    .unwrap()
}

/// A trust store holding one signer's root CA.
pub fn trust_of(keys: &KeygenOutput) -> TrustStore {
    let dir = keys.ca_certificate.parent().unwrap().join("trust");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&keys.ca_certificate, dir.join("root.crt")).unwrap();
    TrustStore::load_dir(&dir).unwrap()
}

/// Byte range of the first PNG chunk of `kind` (length field to CRC end).
pub fn png_chunk(b: &[u8], kind: &[u8; 4]) -> Option<(usize, usize)> {
    let mut pos = 8;
    while pos + 12 <= b.len() {
        let len = u32::from_be_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
        let end = pos + 12 + len;
        if &b[pos + 4..pos + 8] == kind {
            return Some((pos, end));
        }
        pos = end;
    }
    None
}

/// Recompute the CRC of the PNG chunk starting at `start`.
pub fn fix_png_crc(b: &mut [u8], start: usize) {
    let len = u32::from_be_bytes(b[start..start + 4].try_into().unwrap()) as usize;
    let crc = crc32fast::hash(&b[start + 4..start + 8 + len]);
    b[start + 8 + len..start + 12 + len].copy_from_slice(&crc.to_be_bytes());
}

/// Replace the PNG chunk at `start..end` by a `tEXt` chunk of the same size
/// with a valid CRC (the overwrite an attacker would make).
pub fn overwrite_png_chunk_with_text(b: &mut [u8], start: usize, end: usize) {
    let data_len = end - start - 12;
    b[start..start + 4].copy_from_slice(&(data_len as u32).to_be_bytes());
    b[start + 4..start + 8].copy_from_slice(b"tEXt");
    for (i, x) in b[start + 8..start + 8 + data_len].iter_mut().enumerate() {
        *x = if i == 7 { 0 } else { b'A' + (i % 26) as u8 };
    }
    fix_png_crc(b, start);
}
