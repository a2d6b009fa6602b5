//! WebP (RIFF): the chunks inside `RIFF....WEBP`.
//!
//! Roles: `EXIF`, `XMP `, `C2PA` (the store), `VP8 `/`VP8L`/`ALPH`/`ANMF`
//! (pixels). Dimensions come from `VP8X` (canvas), else the first `VP8 ` or
//! `VP8L` frame header. A RIFF size beyond the file, or a chunk running past
//! it, is truncation. Chunks are padded to even length.

use super::{le32, Block, Blocks, Damage, Role, Structure, Tag};

pub(super) fn walk(b: &[u8], s: &mut Structure) {
    let Some(riff_len) = le32(b, 4) else {
        s.damaged(Damage::truncated(4, "WebP: cut inside the RIFF header"));
        return;
    };
    let riff_end = riff_len.saturating_add(8);
    let end_of_data = if riff_end > b.len() {
        s.damaged(Damage::truncated(
            b.len(),
            format!(
                "WebP: the RIFF header declares {riff_end} bytes, the file has {}",
                b.len()
            ),
        ));
        b.len()
    } else {
        riff_end
    };
    let mut pos = 12usize;
    while pos + 8 <= end_of_data {
        let (Some(id), Some(size)) = (b.get(pos..pos + 4), le32(b, pos + 4)) else {
            break;
        };
        let id = [id[0], id[1], id[2], id[3]];
        let data = pos + 8;
        let Some(chunk) = data
            .checked_add(size)
            .filter(|e| *e <= end_of_data)
            .and_then(|e| b.get(data..e))
        else {
            s.damaged(Damage::truncated(
                pos,
                format!(
                    "WebP: {} chunk at byte {pos} runs past the end",
                    super::fourcc(&id)
                ),
            ));
            return;
        };
        dimensions(&id, chunk, s);
        let role = match &id {
            b"EXIF" => Role::Exif,
            b"XMP " => Role::Xmp,
            b"C2PA" => Role::C2pa,
            b"VP8 " | b"VP8L" | b"ALPH" | b"ANMF" => Role::Image,
            _ => Role::Other,
        };
        let end = (data + size + (size & 1)).min(end_of_data);
        s.push(Tag::Riff(id), role, pos..end, data..data + size);
        pos = end;
    }
}

fn dimensions(id: &[u8; 4], c: &[u8], s: &mut Structure) {
    let le24 = |at: usize| -> Option<u32> {
        let v = c.get(at..at + 3)?;
        Some(u32::from(v[0]) | u32::from(v[1]) << 8 | u32::from(v[2]) << 16)
    };
    let dims = match id {
        b"VP8X" => le24(4).zip(le24(7)).map(|(w, h)| (w + 1, h + 1)),
        b"VP8 " if s.dimensions.is_none() => c.get(6..10).map(|d| {
            (
                u32::from(u16::from_le_bytes([d[0], d[1]]) & 0x3FFF),
                u32::from(u16::from_le_bytes([d[2], d[3]]) & 0x3FFF),
            )
        }),
        b"VP8L" if s.dimensions.is_none() => c.get(1..5).map(|d| {
            let bits = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }),
        _ => None,
    };
    if dims.is_some() {
        s.dimensions = dims;
    }
}

pub(super) fn blocks<'a>(b: &'a [u8], s: &Structure, out: &mut Blocks<'a>) {
    for seg in &s.segments {
        let data = s.data(b, seg);
        match seg.role {
            // Some writers keep JPEG's "Exif\0\0" prefix.
            Role::Exif => out.blocks.push((
                "WebP EXIF",
                Block::Exif(data.strip_prefix(b"Exif\0\0").unwrap_or(data)),
            )),
            Role::Xmp => out.blocks.push((
                "WebP XMP",
                Block::Xmp(String::from_utf8_lossy(data).into_owned()),
            )),
            Role::C2pa => out.blocks.push(("WebP C2PA", Block::C2pa)),
            _ => {}
        }
    }
}

/// A complete chunk (id, little-endian size, data, pad byte).
pub fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(data.len() + 9);
    c.extend_from_slice(id);
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}
