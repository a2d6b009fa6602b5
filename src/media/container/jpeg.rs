//! JPEG: every marker segment from SOI to EOI, through the entropy-coded
//! data of each scan (so a file cut anywhere is seen as truncated).
//!
//! Roles: APP1 `Exif\0\0` (EXIF), APP1 `http://ns.adobe.com/xap/1.0/`
//! (XMP), APP1 `http://ns.adobe.com/xmp/extension/` (extended XMP slices),
//! APP11 JUMBF whose description box UUID starts with `c2pa` (the C2PA
//! store: continuation segments share the first one's box instance number
//! `En`), COM (text), SOS with its scan data (pixels). Dimensions come from
//! the first frame header (SOFn).

use super::{be16, be32, Block, Blocks, Damage, Role, Structure, Tag};

/// The APP1 namespace of an XMP packet.
pub const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The APP1 namespace of an extended XMP slice.
pub const XMP_EXT_NS: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
/// The APP1 identifier of EXIF.
pub const EXIF_ID: &[u8] = b"Exif\0\0";
/// The APP1 marker code.
pub const APP1: u8 = 0xE1;
/// Largest APP1 payload: 65,535 minus the two length bytes.
pub const MAX_SEGMENT_DATA: usize = 65_533;

pub(super) fn walk(b: &[u8], s: &mut Structure) {
    let mut pos = 2usize; // after SOI
    let mut c2pa_en: Option<[u8; 2]> = None;
    loop {
        match b.get(pos) {
            Some(0xFF) => {}
            Some(_) => {
                s.damaged(Damage::corrupt(
                    pos,
                    format!("JPEG: expected a marker at byte {pos}"),
                ));
                return;
            }
            None => {
                s.damaged(Damage::truncated(pos, "JPEG: no end-of-image marker"));
                return;
            }
        }
        // 0xFF fill bytes may precede a marker.
        while b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = b.get(pos + 1) else {
            s.damaged(Damage::truncated(pos, "JPEG: cut inside a marker"));
            return;
        };
        match code {
            0xD9 => {
                s.push(Tag::Jpeg(code), Role::Other, pos..pos + 2, pos + 2..pos + 2);
                return; // EOI: anything after it is not part of this image
            }
            0x01 | 0xD0..=0xD8 => {
                pos += 2;
                continue;
            }
            _ => {}
        }
        let Some(len) = be16(b, pos + 2) else {
            s.damaged(Damage::truncated(pos, "JPEG: cut inside a segment header"));
            return;
        };
        if len < 2 {
            s.damaged(Damage::corrupt(
                pos,
                format!("JPEG: segment 0x{code:02X} at byte {pos} has length {len}"),
            ));
            return;
        }
        let end = pos + 2 + len;
        let Some(contents) = b.get(pos + 4..end) else {
            s.damaged(Damage::truncated(
                pos,
                format!("JPEG: segment 0x{code:02X} at byte {pos} runs past the end of the file"),
            ));
            return;
        };
        let (role, skip) = classify(code, contents, &mut c2pa_en);
        if is_frame_header(code) && s.dimensions.is_none() {
            if let (Some(h), Some(w)) = (be16(contents, 1), be16(contents, 3)) {
                s.dimensions = Some((w as u32, h as u32));
            }
        }
        if code == 0xDA {
            let Some(next) = skip_entropy(b, end) else {
                s.push(Tag::Jpeg(code), Role::Image, pos..b.len(), end..b.len());
                s.damaged(Damage::truncated(
                    b.len(),
                    "JPEG: the image data ends before the end-of-image marker",
                ));
                return;
            };
            s.push(Tag::Jpeg(code), Role::Image, pos..next, end..next);
            pos = next;
            continue;
        }
        s.push(Tag::Jpeg(code), role, pos..end, pos + 4 + skip..end);
        pos = end;
    }
}

/// SOF0..SOF15 (not DHT, JPG, DAC).
fn is_frame_header(code: u8) -> bool {
    matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC)
}

/// The role of a segment and how many prefix bytes its payload skips.
fn classify(code: u8, seg: &[u8], c2pa_en: &mut Option<[u8; 2]>) -> (Role, usize) {
    match code {
        APP1 if seg.starts_with(EXIF_ID) => (Role::Exif, EXIF_ID.len()),
        APP1 if seg.starts_with(XMP_NS) => (Role::Xmp, XMP_NS.len()),
        // GUID (32) + full length (4) + offset (4), then a slice of the packet.
        APP1 if seg.starts_with(XMP_EXT_NS) && seg.len() >= XMP_EXT_NS.len() + 40 => {
            (Role::XmpExtension, XMP_EXT_NS.len() + 40)
        }
        0xEB => {
            // APP11: CI "JP", En, Z, then the JUMBF box; bytes 24..28 start
            // the description box's UUID ("c2pa").
            let en = seg.get(2..4).map(|e| [e[0], e[1]]);
            let starts = seg.starts_with(b"JP") && seg.get(24..28) == Some(b"c2pa");
            let continues = seg.len() > 16 && en.is_some() && en == *c2pa_en;
            if starts {
                *c2pa_en = en;
            }
            if starts || continues {
                (Role::C2pa, 0)
            } else {
                (Role::Other, 0)
            }
        }
        0xFE => (Role::Text, 0),
        _ => (Role::Other, 0),
    }
}

/// Skip entropy-coded data: the offset of the first marker that is not a
/// stuffed zero or a restart marker; `None` when the file ends first.
fn skip_entropy(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let off = memchr::memchr(0xFF, b.get(pos..)?)?;
        pos += off;
        match b.get(pos + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => pos += 1,
            _ => return Some(pos),
        }
    }
}

/// Largest extended XMP packet reassembled (the format allows 4 GiB).
pub const MAX_EXTENDED_XMP: usize = 16 << 20;
/// Largest slice of extended XMP in one APP1 segment: the segment payload
/// less the namespace, the GUID (32), the full length (4) and the offset (4).
pub const MAX_EXTENDED_SLICE: usize = MAX_SEGMENT_DATA - XMP_EXT_NS.len() - 40;

/// One extended XMP packet (XMP Specification Part 3, 1.1.3.1): the slices
/// sharing a GUID, put back together by their offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedXmp {
    /// The GUID (32 hex digits: the MD5 of the whole packet) the standard
    /// packet names in `xmpNote:HasExtendedXMP`.
    pub guid: String,
    /// The packet, or why it cannot be put together (missing slices,
    /// inconsistent lengths, too large).
    pub packet: std::result::Result<String, String>,
}

/// The extended XMP packets of a walked JPEG, in order of first slice.
pub fn extended_xmp(b: &[u8], s: &Structure) -> Vec<ExtendedXmp> {
    // (guid, declared length, slices (offset, data))
    type Group<'a> = (String, usize, Vec<(usize, &'a [u8])>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for seg in s.with_role(Role::XmpExtension) {
        let hdr_at = seg.range.start + 4 + XMP_EXT_NS.len();
        let Some(guid) = b.get(hdr_at..hdr_at + 32) else {
            continue;
        };
        let guid = String::from_utf8_lossy(guid).into_owned();
        let (Some(full), Some(offset)) = (be32(b, hdr_at + 32), be32(b, hdr_at + 36)) else {
            continue;
        };
        let data = s.data(b, seg);
        match groups.iter_mut().find(|g| g.0 == guid) {
            Some(g) => {
                g.1 = g.1.max(full);
                g.2.push((offset, data));
            }
            None => groups.push((guid, full, vec![(offset, data)])),
        }
    }
    groups
        .into_iter()
        .map(|(guid, full, slices)| ExtendedXmp {
            packet: assemble(full, slices),
            guid,
        })
        .collect()
}

fn assemble(full: usize, mut slices: Vec<(usize, &[u8])>) -> std::result::Result<String, String> {
    if full > MAX_EXTENDED_XMP {
        return Err(format!(
            "declares {full} bytes, more than the {MAX_EXTENDED_XMP} read"
        ));
    }
    slices.sort_by_key(|(off, _)| *off);
    let mut out = Vec::with_capacity(full);
    for (off, data) in slices {
        if off != out.len() {
            return Err(format!(
                "slice at offset {off} does not follow the {} bytes before it",
                out.len()
            ));
        }
        out.extend_from_slice(data);
    }
    if out.len() != full {
        return Err(format!("has {} of its {full} bytes", out.len()));
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8".to_string())
}

/// APP1 segments carrying `packet` as extended XMP under `guid`.
pub fn extended_segments(guid: &str, packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.len() + packet.len() / 600 + 80);
    let full = (packet.len() as u32).to_be_bytes();
    for (i, slice) in packet.chunks(MAX_EXTENDED_SLICE).enumerate() {
        let offset = ((i * MAX_EXTENDED_SLICE) as u32).to_be_bytes();
        let len = 2 + XMP_EXT_NS.len() + 40 + slice.len();
        out.extend_from_slice(&[0xFF, APP1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(XMP_EXT_NS);
        out.extend_from_slice(guid.as_bytes());
        out.extend_from_slice(&full);
        out.extend_from_slice(&offset);
        out.extend_from_slice(slice);
    }
    out
}

pub(super) fn blocks<'a>(b: &'a [u8], s: &Structure, out: &mut Blocks<'a>) {
    let mut c2pa = false;
    for seg in &s.segments {
        let data = s.data(b, seg);
        match seg.role {
            Role::Exif => out.blocks.push(("JPEG APP1 EXIF", Block::Exif(data))),
            Role::Xmp => out.blocks.push((
                "JPEG APP1 XMP",
                Block::Xmp(String::from_utf8_lossy(data).into_owned()),
            )),
            Role::Text => out.blocks.push((
                "JPEG COM",
                Block::Text {
                    key: "Comment".into(),
                    value: String::from_utf8_lossy(data).into_owned(),
                },
            )),
            // One store may span many APP11 segments: report it once.
            Role::C2pa if !c2pa => {
                c2pa = true;
                out.blocks.push(("JPEG APP11 JUMBF", Block::C2pa));
            }
            _ => {}
        }
    }
    for ext in extended_xmp(b, s) {
        match ext.packet {
            Ok(p) => out.blocks.push(("JPEG APP1 extended XMP", Block::Xmp(p))),
            Err(why) => out
                .warnings
                .push(format!("JPEG: extended XMP {} {why}", ext.guid)),
        }
    }
}
