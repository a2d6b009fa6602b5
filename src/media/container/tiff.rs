//! TIFF (classic, either byte order): the IFD chain.
//!
//! Segments are entry values that matter: XMP (tag 700), the C2PA store
//! (tag 0xCD41, as the C2PA SDK writes it: an UNDEFINED value; its hard
//! binding also excludes the 4-byte count field of the first entry of that
//! IFD, which changes when the store is written, so that field is part of
//! the store's ranges) and the strips or tiles (pixels). Dimensions come
//! from IFD0's ImageWidth/ImageLength. An IFD or a strip beyond the end of
//! the file is truncation. EXIF fields are read from the whole file by
//! `media::metadata`. BigTIFF is not walked (it is not sniffed as TIFF).

use super::{Damage, Role, Structure, Tag};

const MAX_IFDS: usize = 16;
const MAX_ENTRIES: usize = 4096;
const MAX_STRIPS: usize = 1 << 20;
/// The tag the C2PA SDK stores a manifest under.
pub const C2PA_TAG: u16 = 0xCD41;
/// The XMP tag.
pub const XMP_TAG: u16 = 700;

/// Bounds-checked TIFF integers in the file's byte order (also used by the
/// EXIF reader in `media::metadata`).
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    /// The TIFF structure's bytes.
    pub(crate) b: &'a [u8],
    /// Motorola (`MM`) byte order.
    pub(crate) be: bool,
}

impl Reader<'_> {
    pub(crate) fn u16(&self, at: usize) -> Option<u16> {
        let s = self.b.get(at..at.checked_add(2)?)?;
        let a = [s[0], s[1]];
        Some(if self.be {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    pub(crate) fn u32(&self, at: usize) -> Option<u32> {
        let s = self.b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
}

/// One 12-byte IFD entry: tag, type, count, and where its value lies.
struct Entry {
    tag: u16,
    typ: u16,
    count: usize,
    value: Option<std::ops::Range<usize>>,
}

fn entry(r: &Reader<'_>, at: usize) -> Option<Entry> {
    let tag = r.u16(at)?;
    let typ = r.u16(at + 2)?;
    let count = r.u32(at + 4)? as usize;
    let unit = match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    };
    let len = count.checked_mul(unit)?;
    let start = if len <= 4 {
        at + 8
    } else {
        r.u32(at + 8)? as usize
    };
    Some(Entry {
        tag,
        typ,
        count,
        value: (unit > 0).then_some(start..start.checked_add(len)?),
    })
}

/// The integer values of a SHORT or LONG entry (capped).
fn numbers(r: &Reader<'_>, e: &Entry) -> Vec<usize> {
    let Some(v) = &e.value else { return Vec::new() };
    let n = e.count.min(MAX_STRIPS);
    (0..n)
        .filter_map(|i| match e.typ {
            3 => r.u16(v.start + 2 * i).map(usize::from),
            4 => r.u32(v.start + 4 * i).map(|x| x as usize),
            _ => None,
        })
        .collect()
}

pub(super) fn walk(b: &[u8], s: &mut Structure) {
    let r = Reader {
        b,
        be: b.starts_with(b"MM"),
    };
    let Some(mut ifd) = r.u32(4).map(|o| o as usize) else {
        s.damaged(Damage::truncated(4, "TIFF: cut inside the header"));
        return;
    };
    let mut seen = Vec::new();
    while ifd != 0 && seen.len() < MAX_IFDS && !seen.contains(&ifd) {
        seen.push(ifd);
        let Some(count) = r.u16(ifd) else {
            s.damaged(Damage::truncated(
                ifd,
                format!("TIFF: IFD at byte {ifd} lies past the end of the file"),
            ));
            return;
        };
        let count = usize::from(count).min(MAX_ENTRIES);
        let (mut offsets, mut sizes) = (Vec::new(), Vec::new());
        for i in 0..count {
            let at = ifd + 2 + 12 * i;
            let Some(e) = entry(&r, at) else {
                s.damaged(Damage::truncated(at, "TIFF: cut inside an IFD"));
                return;
            };
            let in_file = e.value.clone().filter(|v| v.end <= b.len());
            match (e.tag, in_file) {
                (256 | 257, _) if seen.len() == 1 => {
                    let v = numbers(&r, &e).first().copied().unwrap_or(0) as u32;
                    let (w, h) = s.dimensions.unwrap_or((0, 0));
                    s.dimensions = Some(if e.tag == 256 { (v, h) } else { (w, v) });
                }
                (273 | 324, _) => offsets = numbers(&r, &e),
                (279 | 325, _) => sizes = numbers(&r, &e),
                (XMP_TAG, Some(v)) => s.push(Tag::Tiff(XMP_TAG), Role::Xmp, v.clone(), v),
                (C2PA_TAG, Some(v)) => {
                    s.push(Tag::Tiff(C2PA_TAG), Role::C2pa, v.clone(), v);
                    let count_field = ifd + 2 + 4..ifd + 2 + 8;
                    s.push(
                        Tag::Tiff(C2PA_TAG),
                        Role::C2pa,
                        count_field.clone(),
                        count_field,
                    );
                }
                (XMP_TAG | C2PA_TAG, None) => s.damaged(Damage::truncated(
                    at,
                    format!("TIFF: tag {} value lies past the end of the file", e.tag),
                )),
                _ => {}
            }
        }
        for (&off, &len) in offsets.iter().zip(&sizes) {
            match off.checked_add(len) {
                Some(end) if end <= b.len() => {
                    s.push(Tag::Tiff(273), Role::Image, off..end, off..end)
                }
                _ => {
                    s.damaged(Damage::truncated(
                        off,
                        format!("TIFF: image data at byte {off} runs past the end of the file"),
                    ));
                    break;
                }
            }
        }
        ifd = r.u32(ifd + 2 + 12 * count).map(|o| o as usize).unwrap_or(0);
    }
}
