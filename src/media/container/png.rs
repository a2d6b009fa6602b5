//! PNG: every chunk from the signature to IEND, each CRC checked.
//!
//! Roles: `iTXt` with keyword `XML:com.adobe.xmp` (XMP), `tEXt`/`zTXt`/
//! other `iTXt` (text), `eXIf` (EXIF), `caBX` (the C2PA store), `IDAT` and
//! `fdAT` (pixels). Dimensions come from `IHDR`. A chunk whose CRC fails is
//! recorded as damage and the walk goes on (its length is still usable);
//! a chunk running past the end, or a missing IEND, is truncation.
//! Compressed text is inflated with a cap ([`super::MAX_INFLATE`] per
//! chunk, [`super::MAX_INFLATE_TOTAL`] per file), so a zip bomb costs little.

use super::{
    be32, latin1, split_nul, Block, Blocks, Damage, Role, Structure, Tag, MAX_INFLATE,
    MAX_INFLATE_TOTAL,
};

/// The PNG signature.
pub const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The iTXt keyword of an XMP packet.
pub const XMP_KEYWORD: &str = "XML:com.adobe.xmp";

pub(super) fn walk(b: &[u8], s: &mut Structure) {
    let mut pos = SIGNATURE.len();
    loop {
        let (Some(len), Some(kind)) = (be32(b, pos), b.get(pos + 4..pos + 8)) else {
            s.damaged(Damage::truncated(pos, "PNG: no IEND chunk"));
            return;
        };
        let kind = [kind[0], kind[1], kind[2], kind[3]];
        let name = super::fourcc(&kind);
        let data_end = pos.checked_add(8).and_then(|p| p.checked_add(len));
        let Some((data_end, stored)) = data_end.and_then(|e| Some((e, be32(b, e)?))) else {
            s.damaged(Damage::truncated(
                pos,
                format!("PNG: {name} chunk at byte {pos} runs past the end of the file"),
            ));
            return;
        };
        let end = data_end + 4;
        let crc = b.get(pos + 4..data_end).map(crc32fast::hash);
        if crc != Some(stored as u32) {
            s.damaged(Damage::corrupt(
                pos,
                format!("PNG: {name} chunk at byte {pos} fails its CRC"),
            ));
        }
        let data = pos + 8..data_end;
        let role = match &kind {
            b"iTXt" if b.get(data.clone()).is_some_and(is_xmp_itxt) => Role::Xmp,
            b"tEXt" | b"zTXt" | b"iTXt" => Role::Text,
            b"eXIf" => Role::Exif,
            b"caBX" => Role::C2pa,
            b"IDAT" | b"fdAT" => Role::Image,
            _ => Role::Other,
        };
        if &kind == b"IHDR" && s.dimensions.is_none() {
            if let (Some(w), Some(h)) = (be32(b, pos + 8), be32(b, pos + 12)) {
                s.dimensions = Some((w as u32, h as u32));
            }
        }
        s.push(Tag::Png(kind), role, pos..end, data);
        if &kind == b"IEND" {
            return;
        }
        pos = end;
    }
}

fn is_xmp_itxt(data: &[u8]) -> bool {
    split_nul(data).0 == XMP_KEYWORD.as_bytes()
}

pub(super) fn blocks<'a>(b: &'a [u8], s: &Structure, out: &mut Blocks<'a>) {
    let mut inflated = 0usize;
    for seg in &s.segments {
        let data = s.data(b, seg);
        let Tag::Png(kind) = seg.tag else { continue };
        match (&kind, seg.role) {
            (b"tEXt", _) => {
                let (key, text) = split_nul(data);
                out.blocks.push((
                    "PNG tEXt",
                    Block::Text {
                        key: latin1(key),
                        value: latin1(text),
                    },
                ));
            }
            (b"zTXt", _) => {
                let (key, rest) = split_nul(data);
                match rest.get(1..).and_then(|z| inflate(z, &mut inflated)) {
                    Some(text) => out.blocks.push((
                        "PNG zTXt",
                        Block::Text {
                            key: latin1(key),
                            value: latin1(&text),
                        },
                    )),
                    None => out
                        .warnings
                        .push(format!("PNG: zTXt {} could not be inflated", latin1(key))),
                }
            }
            (b"iTXt", role) => match itxt(data, &mut inflated) {
                Some((_, text)) if role == Role::Xmp => {
                    out.blocks.push(("PNG iTXt XMP", Block::Xmp(text)))
                }
                Some((key, value)) => out.blocks.push(("PNG iTXt", Block::Text { key, value })),
                None => out.warnings.push("PNG: malformed iTXt chunk".into()),
            },
            (b"eXIf", _) => out.blocks.push(("PNG eXIf", Block::Exif(data))),
            (b"caBX", _) => out.blocks.push(("PNG caBX", Block::C2pa)),
            _ => {}
        }
    }
}

fn inflate(z: &[u8], total: &mut usize) -> Option<Vec<u8>> {
    let cap = MAX_INFLATE.min(MAX_INFLATE_TOTAL.saturating_sub(*total));
    let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, cap).ok()?;
    *total += out.len();
    Some(out)
}

/// iTXt: keyword, compression flag and method, language tag, translated
/// keyword, text (UTF-8).
pub(super) fn itxt(data: &[u8], total: &mut usize) -> Option<(String, String)> {
    let (key, rest) = split_nul(data);
    let (&flag, rest) = rest.split_first()?;
    let (_method, rest) = rest.split_first()?;
    let (_lang, rest) = split_nul(rest);
    let (_tkey, text) = split_nul(rest);
    let text = if flag == 1 {
        inflate(text, total)?
    } else {
        text.to_vec()
    };
    Some((latin1(key), String::from_utf8_lossy(&text).into_owned()))
}

/// A complete chunk (length, type, data, CRC).
pub fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(data.len() + 12);
    c.extend_from_slice(&(data.len() as u32).to_be_bytes());
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let crc = crc32fast::hash(c.get(4..).unwrap_or_default());
    c.extend_from_slice(&crc.to_be_bytes());
    c
}

/// An uncompressed iTXt chunk carrying an XMP packet.
pub fn xmp_chunk(xmp: &str) -> Vec<u8> {
    let mut data = XMP_KEYWORD.as_bytes().to_vec();
    // NUL, compression flag 0, method 0, empty language, NUL, empty
    // translated keyword, NUL.
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(xmp.as_bytes());
    chunk(b"iTXt", &data)
}
