//! Container walk: where a C2PA manifest store sits inside a JPEG, PNG or
//! WebP file, and whether the file's structure holds together.
//!
//! The C2PA SDK finds manifests itself; this independent walk exists for two
//! reasons. First, `verify` must check that a hard binding's exclusion range
//! is exactly the manifest store's real location (see [`super::binding`]),
//! which needs the location found without trusting the manifest. Second,
//! `sign` and `verify` refuse broken files (truncated segments, PNG chunks
//! with a bad CRC, impossible dimensions) with a clear error instead of
//! signing or judging garbage, without paying for a full pixel decode.
//!
//! Where the store sits, per format (C2PA 2.x, "Embedding manifests"):
//! - JPEG: one or more APP11 segments carrying JUMBF whose description box
//!   UUID starts with `c2pa`; continuation segments share the first one's
//!   box instance number (`En`). The range runs from the first such marker
//!   to the end of the last continuation.
//! - PNG: the `caBX` chunk, from its length field to the end of its CRC.
//! - WebP: the RIFF `C2PA` chunk, from its header to the end of its data.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::media::decode::{check_dimensions, Limits};
use crate::media::Format;

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The container format.
    pub format: Format,
    /// Pixel width from the header.
    pub width: u32,
    /// Pixel height from the header.
    pub height: u32,
    /// Byte ranges of the embedded manifest store (contiguous pieces merged).
    /// Empty when the file carries no manifest.
    pub manifest_ranges: Vec<Range<u64>>,
}

impl Layout {
    /// Whether the file carries an embedded C2PA manifest store.
    pub fn has_manifest(&self) -> bool {
        !self.manifest_ranges.is_empty()
    }
}

/// The formats hallmark signs and verifies.
pub fn supported(format: Format) -> bool {
    matches!(format, Format::Jpeg | Format::Png | Format::Webp)
}

/// Walk a JPEG, PNG or WebP file. Errors name what is broken; other formats
/// are [`Error::Unsupported`].
pub fn walk(bytes: &[u8], limits: &Limits) -> Result<Layout> {
    if bytes.is_empty() {
        return Err(Error::Decode("empty file".into()));
    }
    let format = Format::sniff(bytes)
        .ok_or_else(|| Error::Unsupported("not a recognised image format".into()))?;
    let layout = match format {
        Format::Jpeg => walk_jpeg(bytes)?,
        Format::Png => walk_png(bytes)?,
        Format::Webp => walk_webp(bytes)?,
        other => {
            return Err(Error::Unsupported(format!(
                "{} files cannot carry C2PA manifests here (JPEG, PNG and WebP can)",
                other.mime()
            )))
        }
    };
    check_dimensions(layout.width, layout.height, limits)?;
    Ok(layout)
}

fn truncated(what: &str) -> Error {
    Error::Decode(format!("{what}: file is truncated"))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

fn push_merged(ranges: &mut Vec<Range<u64>>, r: Range<u64>) {
    match ranges.last_mut() {
        Some(last) if last.end == r.start => last.end = r.end,
        _ => ranges.push(r),
    }
}

// ---- JPEG -------------------------------------------------------------------

fn walk_jpeg(b: &[u8]) -> Result<Layout> {
    let mut pos = 2usize; // after SOI
    let mut dims: Option<(u32, u32)> = None;
    let mut ranges = Vec::new();
    // The box instance number (En) of the C2PA store being read, if any.
    let mut c2pa_en: Option<Vec<u8>> = None;
    loop {
        // A marker is 0xFF followed by a code; 0xFF fill bytes may precede it.
        if *b.get(pos).ok_or_else(|| truncated("JPEG"))? != 0xFF {
            return Err(Error::Decode(format!(
                "JPEG: expected a marker at byte {pos}"
            )));
        }
        while b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let code = *b.get(pos + 1).ok_or_else(|| truncated("JPEG"))?;
        match code {
            0xD9 => break, // EOI
            0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(be16(b, pos + 2).ok_or_else(|| truncated("JPEG"))?);
        if len < 2 {
            return Err(Error::Decode(format!(
                "JPEG: segment at byte {pos} has length {len}"
            )));
        }
        let end = pos + 2 + len;
        if end > b.len() {
            return Err(truncated("JPEG"));
        }
        let contents = &b[pos + 4..end];
        match code {
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                let h = be16(contents, 1)
                    .ok_or_else(|| Error::Decode("JPEG: short frame header".into()))?;
                let w = be16(contents, 3)
                    .ok_or_else(|| Error::Decode("JPEG: short frame header".into()))?;
                dims.get_or_insert((u32::from(w), u32::from(h)));
            }
            0xEB => {
                // APP11: CI "JP", En, Z, then the JUMBF box; 24..28 is the
                // start of the description box's UUID ("c2pa").
                let en = contents.get(2..4);
                let is_store_start = contents.len() > 28 && &contents[24..28] == b"c2pa";
                let continues = contents.len() > 16 && en.is_some() && en == c2pa_en.as_deref();
                if continues {
                    push_merged(&mut ranges, pos as u64..end as u64);
                } else if is_store_start {
                    c2pa_en = en.map(<[u8]>::to_vec);
                    push_merged(&mut ranges, pos as u64..end as u64);
                }
            }
            _ => {}
        }
        pos = end;
        if code == 0xDA {
            pos = skip_entropy(b, pos)?;
        }
    }
    let (width, height) = dims.ok_or_else(|| Error::Decode("JPEG: no frame header".into()))?;
    Ok(Layout {
        format: Format::Jpeg,
        width,
        height,
        manifest_ranges: ranges,
    })
}

/// Skip entropy-coded data after a start-of-scan header: stop at the first
/// marker that is not a stuffed zero or a restart marker.
fn skip_entropy(b: &[u8], mut pos: usize) -> Result<usize> {
    loop {
        let rest = b.get(pos..).ok_or_else(|| truncated("JPEG"))?;
        let off = memchr::memchr(0xFF, rest).ok_or_else(|| truncated("JPEG"))?;
        pos += off;
        match b.get(pos + 1) {
            None => return Err(truncated("JPEG")),
            Some(0x00) | Some(0xD0..=0xD7) | Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
        }
    }
}

// ---- PNG --------------------------------------------------------------------

fn walk_png(b: &[u8]) -> Result<Layout> {
    let mut pos = 8usize;
    let mut dims: Option<(u32, u32)> = None;
    let mut ranges = Vec::new();
    loop {
        let len = be32(b, pos).ok_or_else(|| truncated("PNG"))? as usize;
        let kind = b.get(pos + 4..pos + 8).ok_or_else(|| truncated("PNG"))?;
        let data_end = (pos + 8).checked_add(len).ok_or_else(|| truncated("PNG"))?;
        let end = data_end + 4;
        if end > b.len() {
            return Err(truncated("PNG"));
        }
        let stored = be32(b, data_end).ok_or_else(|| truncated("PNG"))?;
        if crc32fast::hash(&b[pos + 4..data_end]) != stored {
            return Err(Error::Decode(format!(
                "PNG: {} chunk at byte {pos} fails its CRC (corrupt data)",
                String::from_utf8_lossy(kind)
            )));
        }
        match kind {
            b"IHDR" => {
                let w = be32(b, pos + 8).ok_or_else(|| truncated("PNG"))?;
                let h = be32(b, pos + 12).ok_or_else(|| truncated("PNG"))?;
                dims = Some((w, h));
            }
            b"caBX" => push_merged(&mut ranges, pos as u64..end as u64),
            b"IEND" => break,
            _ => {}
        }
        pos = end;
    }
    let (width, height) = dims.ok_or_else(|| Error::Decode("PNG: no IHDR chunk".into()))?;
    Ok(Layout {
        format: Format::Png,
        width,
        height,
        manifest_ranges: ranges,
    })
}

// ---- WebP -------------------------------------------------------------------

fn walk_webp(b: &[u8]) -> Result<Layout> {
    let riff_len = le32(b, 4).ok_or_else(|| truncated("WebP"))? as usize;
    let riff_end = riff_len.checked_add(8).ok_or_else(|| truncated("WebP"))?;
    if riff_end > b.len() {
        return Err(truncated("WebP"));
    }
    let mut pos = 12usize;
    let mut dims: Option<(u32, u32)> = None;
    let mut ranges = Vec::new();
    while pos + 8 <= riff_end {
        let id = &b[pos..pos + 4];
        let size = le32(b, pos + 4).ok_or_else(|| truncated("WebP"))? as usize;
        let data = pos + 8;
        let end = data.checked_add(size).ok_or_else(|| truncated("WebP"))?;
        if end > riff_end {
            return Err(truncated("WebP"));
        }
        let chunk = &b[data..end];
        match id {
            b"VP8X" if chunk.len() >= 10 => {
                let w = 1
                    + (u32::from(chunk[4]) | u32::from(chunk[5]) << 8 | u32::from(chunk[6]) << 16);
                let h = 1
                    + (u32::from(chunk[7]) | u32::from(chunk[8]) << 8 | u32::from(chunk[9]) << 16);
                dims = Some((w, h));
            }
            b"VP8 " if chunk.len() >= 10 && dims.is_none() => {
                let w = u32::from(u16::from_le_bytes([chunk[6], chunk[7]]) & 0x3FFF);
                let h = u32::from(u16::from_le_bytes([chunk[8], chunk[9]]) & 0x3FFF);
                dims = Some((w, h));
            }
            b"VP8L" if chunk.len() >= 5 && dims.is_none() => {
                let bits = u32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]);
                dims = Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1));
            }
            b"C2PA" => push_merged(&mut ranges, pos as u64..end as u64),
            _ => {}
        }
        pos = end + (size & 1); // chunks are padded to even length
    }
    let (width, height) = dims.ok_or_else(|| Error::Decode("WebP: no image header".into()))?;
    Ok(Layout {
        format: Format::Webp,
        width,
        height,
        manifest_ranges: ranges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 99]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    fn webp_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([1, 2, 3, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::WebP).unwrap();
        out.into_inner()
    }

    #[test]
    fn reads_dimensions_of_each_format() {
        let l = walk(&png_bytes(17, 9), &Limits::default()).unwrap();
        assert_eq!(
            (l.format, l.width, l.height, l.has_manifest()),
            (Format::Png, 17, 9, false)
        );
        let l = walk(&jpeg_bytes(33, 21), &Limits::default()).unwrap();
        assert_eq!((l.format, l.width, l.height), (Format::Jpeg, 33, 21));
        let l = walk(&webp_bytes(40, 30), &Limits::default()).unwrap();
        assert_eq!((l.format, l.width, l.height), (Format::Webp, 40, 30));
    }

    #[test]
    fn png_crc_damage_is_an_error() {
        let mut b = png_bytes(8, 8);
        let idat = b.windows(4).position(|w| w == b"IDAT").unwrap();
        b[idat + 6] ^= 0x40;
        let err = walk(&b, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("CRC"), "{err}");
    }

    #[test]
    fn truncation_is_an_error_for_each_format() {
        for b in [png_bytes(8, 8), jpeg_bytes(16, 16), webp_bytes(8, 8)] {
            let cut = &b[..b.len() / 2];
            assert!(walk(cut, &Limits::default()).is_err());
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x1234_5678_u32;
        for n in 0..2000usize {
            let mut b: Vec<u8> = (0..(n % 97))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let prefix: &[u8] = match n % 3 {
                0 => &[0xFF, 0xD8, 0xFF],
                1 => b"\x89PNG\r\n\x1a\n",
                _ => b"RIFF\x10\0\0\0WEBP",
            };
            b.splice(0..0, prefix.iter().copied());
            let _ = walk(&b, &Limits::default());
        }
    }
}
