//! HEIF / HEIC / AVIF (ISO BMFF): top-level boxes, and inside `meta` the
//! items that hold metadata.
//!
//! Roles: the top-level `uuid` box with the C2PA UUID (the store), `mdat`
//! (pixels), and the `Exif` item and the `mime` item of type
//! `application/rdf+xml` (XMP), located through `iinf` and `iloc`
//! (construction method 0: file offsets). Dimensions come from the first
//! `ispe` property. A box running past the end of the file is truncation.
//! Pixels are not decoded (no HEVC/AV1 decoder here); the C2PA SDK binds
//! these files with a BMFF hash, which it checks itself.

use std::ops::Range;

use super::{be16, be32, be64, Block, Blocks, Damage, Role, Structure, Tag};

/// The `uuid` box type C2PA stores manifests in.
const C2PA_UUID: [u8; 16] = [
    0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81,
];
const MAX_BOXES: usize = 4096;
const MAX_DEPTH: usize = 4;

/// One box: type, whole range, payload range.
struct BoxAt {
    kind: [u8; 4],
    range: Range<usize>,
    data: Range<usize>,
}

/// The boxes in `b[range]`; `Err(offset)` where one runs past `range.end`.
fn boxes(b: &[u8], range: Range<usize>) -> Result<Vec<BoxAt>, (Vec<BoxAt>, usize)> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos + 8 <= range.end && out.len() < MAX_BOXES {
        let (Some(size), Some(kind)) = (be32(b, pos), b.get(pos + 4..pos + 8)) else {
            return Err((out, pos));
        };
        let kind = [kind[0], kind[1], kind[2], kind[3]];
        let (header, size) = match size {
            0 => (8, range.end - pos),
            1 => match be64(b, pos + 8).and_then(|s| usize::try_from(s).ok()) {
                Some(s) => (16, s),
                None => return Err((out, pos)),
            },
            s => (8, s),
        };
        let end = match pos.checked_add(size) {
            Some(e) if e <= range.end && size >= header => e,
            _ => return Err((out, pos)),
        };
        out.push(BoxAt {
            kind,
            range: pos..end,
            data: pos + header..end,
        });
        pos = end;
    }
    Ok(out)
}

pub(super) fn walk(b: &[u8], s: &mut Structure) {
    let top = boxes(b, 0..b.len()).unwrap_or_else(|(found, at)| {
        s.damaged(Damage::truncated(
            at,
            format!("HEIF: box at byte {at} runs past the end of the file"),
        ));
        found
    });
    for bx in top {
        let role = match &bx.kind {
            b"uuid" if b.get(bx.data.start..bx.data.start + 16) == Some(&C2PA_UUID[..]) => {
                Role::C2pa
            }
            b"mdat" => Role::Image,
            _ => Role::Other,
        };
        if &bx.kind == b"meta" {
            // A full box: version and flags, then children.
            meta(b, bx.data.start + 4..bx.data.end, s);
        }
        s.push(Tag::Bmff(bx.kind), role, bx.range, bx.data);
    }
}

/// Items of `meta`: their types (from `iinf`) and extents (from `iloc`).
fn meta(b: &[u8], range: Range<usize>, s: &mut Structure) {
    let Ok(children) = boxes(b, range) else {
        return;
    };
    let mut types: Vec<(u32, [u8; 4])> = Vec::new();
    let mut places: Vec<(u32, Range<usize>)> = Vec::new();
    for c in &children {
        match &c.kind {
            b"iinf" => types = item_types(b, c.data.clone()),
            b"iloc" => places = item_places(b, c.data.clone()).unwrap_or_default(),
            b"iprp" if s.dimensions.is_none() => s.dimensions = ispe(b, c.data.clone(), 0),
            _ => {}
        }
    }
    for (id, kind) in types {
        let role = match &kind {
            b"Exif" => Role::Exif,
            b"xmp " => Role::Xmp,
            _ => continue,
        };
        for (_, r) in places.iter().filter(|(i, _)| *i == id) {
            if r.end <= b.len() {
                s.push(Tag::Bmff(kind), role, r.clone(), r.clone());
            }
        }
    }
}

/// (item id, type) for Exif items and XMP (`mime` `application/rdf+xml`,
/// reported as type `xmp `).
fn item_types(b: &[u8], range: Range<usize>) -> Vec<(u32, [u8; 4])> {
    let version = b.get(range.start).copied().unwrap_or(0);
    let first = range.start + 4 + if version == 0 { 2 } else { 4 };
    let Ok(entries) = boxes(b, first..range.end) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| &e.kind == b"infe") {
        let d = e.data.start;
        let v = b.get(d).copied().unwrap_or(0);
        if v < 2 {
            continue;
        }
        let (id, at) = if v == 2 {
            (be16(b, d + 4).map(|x| x as u32), d + 6)
        } else {
            (be32(b, d + 4).map(|x| x as u32), d + 8)
        };
        let (Some(id), Some(t)) = (id, b.get(at + 2..at + 6)) else {
            continue;
        };
        let kind = [t[0], t[1], t[2], t[3]];
        if &kind == b"mime" {
            // item_name, then content_type, each NUL-terminated.
            let rest = b.get(at + 6..e.data.end).unwrap_or_default();
            let mut parts = rest.split(|c| *c == 0);
            let _name = parts.next();
            if parts.next() == Some(b"application/rdf+xml") {
                out.push((id, *b"xmp "));
            }
        } else if &kind == b"Exif" {
            out.push((id, kind));
        }
    }
    out
}

/// (item id, file range) from `iloc`, construction method 0 only; items
/// with several extents give one range per extent.
fn item_places(b: &[u8], range: Range<usize>) -> Option<Vec<(u32, Range<usize>)>> {
    let mut p = range.start;
    let version = *b.get(p)?;
    p += 4;
    let sizes = *b.get(p)?;
    let sizes2 = *b.get(p + 1)?;
    p += 2;
    let (off_size, len_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
    let base_size = usize::from(sizes2 >> 4);
    let index_size = if version >= 1 {
        usize::from(sizes2 & 15)
    } else {
        0
    };
    let read = |at: usize, n: usize| -> Option<usize> {
        match n {
            0 => Some(0),
            4 => be32(b, at),
            8 => be64(b, at).and_then(|v| usize::try_from(v).ok()),
            _ => None,
        }
    };
    let count = if version < 2 {
        let c = be16(b, p)?;
        p += 2;
        c
    } else {
        let c = be32(b, p)?;
        p += 4;
        c
    };
    let mut out = Vec::new();
    for _ in 0..count.min(MAX_BOXES) {
        let id = if version < 2 {
            let v = be16(b, p)? as u32;
            p += 2;
            v
        } else {
            let v = be32(b, p)? as u32;
            p += 4;
            v
        };
        let method = if version >= 1 {
            let m = be16(b, p)? & 15;
            p += 2;
            m
        } else {
            0
        };
        p += 2; // data_reference_index
        let base = read(p, base_size)?;
        p += base_size;
        let extents = be16(b, p)?;
        p += 2;
        for _ in 0..extents {
            p += index_size;
            let off = read(p, off_size)?;
            p += off_size;
            let len = read(p, len_size)?;
            p += len_size;
            if method == 0 {
                let start = base.checked_add(off)?;
                out.push((id, start..start.checked_add(len)?));
            }
        }
        if p > range.end {
            return None;
        }
    }
    Some(out)
}

/// The first `ispe` (image spatial extents) under `range`.
fn ispe(b: &[u8], range: Range<usize>, depth: usize) -> Option<(u32, u32)> {
    let children = boxes(b, range).ok()?;
    for c in children {
        match &c.kind {
            b"ispe" => {
                let w = be32(b, c.data.start + 4)? as u32;
                let h = be32(b, c.data.start + 8)? as u32;
                return Some((w, h));
            }
            b"ipco" if depth < MAX_DEPTH => {
                if let Some(d) = ispe(b, c.data.clone(), depth + 1) {
                    return Some(d);
                }
            }
            _ => {}
        }
    }
    None
}

pub(super) fn blocks<'a>(b: &'a [u8], s: &Structure, out: &mut Blocks<'a>) {
    for seg in &s.segments {
        let data = s.data(b, seg);
        match seg.role {
            Role::Exif => {
                // A 4-byte offset to the TIFF header, then (usually) "Exif\0\0".
                let skip = be32(data, 0).map_or(0, |o| o + 4);
                let tiff = data.get(skip..).unwrap_or_default();
                out.blocks.push((
                    "HEIF Exif item",
                    Block::Exif(tiff.strip_prefix(b"Exif\0\0").unwrap_or(tiff)),
                ));
            }
            Role::Xmp => out.blocks.push((
                "HEIF XMP item",
                Block::Xmp(String::from_utf8_lossy(data).into_owned()),
            )),
            Role::C2pa => out.blocks.push(("HEIF C2PA box", Block::C2pa)),
            _ => {}
        }
    }
}
