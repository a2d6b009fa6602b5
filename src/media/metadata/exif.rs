//! A minimal, bounds-checked EXIF (TIFF IFD) reader: only the fields that
//! say who or what made an image (Make, Model, Software, DateTimeOriginal,
//! UserComment, ...), plus an XMP packet stored in a TIFF (tag 700).
//!
//! Every offset is checked, IFDs are visited at most once (no loops through
//! crafted next-IFD pointers) and entry counts are capped, so hostile bytes
//! give fewer fields, never a panic.

/// Fields read from an EXIF block or a TIFF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExifFields {
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
    pub artist: Option<String>,
    pub image_description: Option<String>,
    pub date_time: Option<String>,
    pub date_time_original: Option<String>,
    pub user_comment: Option<String>,
    pub lens_model: Option<String>,
    /// Exposure time, f-number or ISO present (what cameras write).
    pub has_exposure: bool,
    /// A maker note is present (written by camera firmware).
    pub has_maker_note: bool,
    /// XMP packet (TIFF tag 700), when present.
    pub xmp: Option<String>,
    /// Orientation (tag 274): 1..=8, how to turn the stored pixels for display.
    pub orientation: Option<u16>,
}

const MAX_ENTRIES: usize = 512;
const MAX_IFDS: usize = 8;

use crate::media::container::tiff::Reader;

/// The TIFF being read: the container layer's byte-order reader.
#[derive(Clone, Copy)]
struct Tiff<'a> {
    r: Reader<'a>,
}

impl<'a> Tiff<'a> {
    fn u16(&self, at: usize) -> Option<u16> {
        self.r.u16(at)
    }

    fn u32(&self, at: usize) -> Option<u32> {
        self.r.u32(at)
    }

    /// The value bytes of the 12-byte entry at `entry`.
    fn value(&self, entry: usize) -> Option<(u16, &'a [u8])> {
        let typ = self.u16(entry + 2)?;
        let count = self.u32(entry + 4)? as usize;
        let unit = match typ {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 => 4,
            5 | 10 | 12 => 8,
            _ => return None,
        };
        let len = count.checked_mul(unit)?;
        let start = if len <= 4 {
            entry + 8
        } else {
            self.u32(entry + 8)? as usize
        };
        Some((typ, self.r.b.get(start..start.checked_add(len)?)?))
    }
}

/// Parse a TIFF structure (`II*\0` / `MM\0*` header). `None` when the header
/// is not TIFF; a damaged body gives the fields read so far.
pub(crate) fn parse(data: &[u8]) -> Option<ExifFields> {
    let big_endian = match data.get(..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let tiff = Tiff {
        r: Reader {
            b: data,
            be: big_endian,
        },
    };
    let mut fields = ExifFields::default();
    let mut queue = vec![tiff.u32(4)? as usize];
    let mut seen = Vec::new();
    while let Some(ifd) = queue.pop() {
        if ifd == 0 || seen.contains(&ifd) || seen.len() >= MAX_IFDS {
            continue;
        }
        seen.push(ifd);
        let Some(count) = tiff.u16(ifd) else { continue };
        let count = usize::from(count).min(MAX_ENTRIES);
        for i in 0..count {
            let entry = ifd + 2 + 12 * i;
            let Some(tag) = tiff.u16(entry) else { break };
            read_entry(&tiff, entry, tag, &mut fields, &mut queue);
        }
        // Only IFD0's successor (IFD1, the thumbnail) is chained; skip it.
    }
    Some(fields)
}

fn read_entry(tiff: &Tiff<'_>, entry: usize, tag: u16, f: &mut ExifFields, queue: &mut Vec<usize>) {
    let text = || {
        tiff.value(entry)
            .map(|(_, v)| ascii(v))
            .filter(|s| !s.is_empty())
    };
    match tag {
        0x010E => f.image_description = text(),
        0x010F => f.make = text(),
        0x0110 => f.model = text(),
        0x0131 => f.software = text(),
        // SHORT, in the entry itself; only the first IFD0 value counts.
        0x0112 if f.orientation.is_none() => {
            f.orientation = tiff.u16(entry + 8).filter(|o| (1..=8).contains(o));
        }
        0x0132 => f.date_time = text(),
        0x013B => f.artist = text(),
        0x9003 => f.date_time_original = text(),
        0xA434 => f.lens_model = text(),
        0x829A | 0x829D | 0x8827 => f.has_exposure = true,
        0x927C => f.has_maker_note = true,
        0x9286 => {
            f.user_comment = tiff
                .value(entry)
                .and_then(|(_, v)| user_comment(v, tiff.r.be))
        }
        0x02BC => {
            f.xmp = tiff
                .value(entry)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .filter(|s| !s.trim().is_empty())
        }
        0x8769 => {
            if let Some(off) = tiff.u32(entry + 8) {
                queue.push(off as usize);
            }
        }
        _ => {}
    }
}

/// ASCII / UTF-8 text up to the first NUL, trimmed.
fn ascii(v: &[u8]) -> String {
    let end = v.iter().position(|b| *b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(v.get(..end).unwrap_or(v))
        .trim()
        .to_string()
}

/// EXIF UserComment: an 8-byte character-code prefix, then the text
/// (`ASCII\0\0\0`, `UNICODE\0` as UTF-16 in the file's byte order or, as
/// some writers do, big-endian; undefined: try UTF-8).
fn user_comment(v: &[u8], big_endian: bool) -> Option<String> {
    let (code, body) = if v.len() >= 8 {
        v.split_at(8)
    } else {
        (&[][..], v)
    };
    let text = if code == b"UNICODE\0" {
        let units = |be: bool| -> Vec<u16> {
            body.chunks_exact(2)
                .map(|c| {
                    if be {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect()
        };
        // Writers disagree on the byte order: pick the one with more ASCII.
        let score = |u: &[u16]| u.iter().filter(|c| (0x20..0x7F).contains(*c)).count();
        let (a, b) = (units(big_endian), units(!big_endian));
        let best = if score(&a) >= score(&b) { a } else { b };
        String::from_utf16_lossy(&best)
    } else {
        // ASCII, JIS or undefined: read as UTF-8 (lossy).
        String::from_utf8_lossy(body).into_owned()
    };
    let text = text
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One IFD at file offset `at`: its entries, a zero next-IFD link, then
    /// the values longer than 4 bytes. Returns the bytes and, per entry, the
    /// offset of its 4-byte value field within them.
    fn ifd(at: usize, entries: &[(u16, u16, &[u8])]) -> (Vec<u8>, Vec<usize>) {
        let mut out = (entries.len() as u16).to_le_bytes().to_vec();
        let mut blob = Vec::new();
        let mut data_off = at + 2 + 12 * entries.len() + 4;
        let mut value_fields = Vec::new();
        for (tag, typ, v) in entries {
            out.extend(tag.to_le_bytes());
            out.extend(typ.to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
            value_fields.push(out.len());
            if v.len() <= 4 {
                let mut inline = v.to_vec();
                inline.resize(4, 0);
                out.extend(inline);
            } else {
                out.extend((data_off as u32).to_le_bytes());
                blob.extend_from_slice(v);
                data_off += v.len();
            }
        }
        out.extend(0u32.to_le_bytes());
        out.extend(blob);
        (out, value_fields)
    }

    /// Build a little-endian TIFF with the given IFD0 ASCII tags and optional
    /// Exif-IFD ASCII/UNDEFINED tags (used by the metadata tests too).
    pub(crate) fn build_tiff(ifd0: &[(u16, &[u8])], exif: &[(u16, u16, &[u8])]) -> Vec<u8> {
        let mut out = b"II*\0".to_vec();
        out.extend(8u32.to_le_bytes());
        let mut entries: Vec<(u16, u16, &[u8])> = ifd0.iter().map(|(t, v)| (*t, 2, *v)).collect();
        if !exif.is_empty() {
            // The Exif IFD pointer, patched once the Exif IFD's offset is known.
            entries.push((0x8769, 4, &[0, 0, 0, 0]));
        }
        let (first, fields) = ifd(8, &entries);
        out.extend(&first);
        if !exif.is_empty() {
            let exif_at = out.len();
            let p = 8 + fields[fields.len() - 1];
            out[p..p + 4].copy_from_slice(&(exif_at as u32).to_le_bytes());
            out.extend(ifd(exif_at, exif).0);
        }
        out
    }

    #[test]
    fn reads_ifd0_and_exif_ifd() {
        let tiff = build_tiff(
            &[
                (0x010F, b"Canon\0"),
                (0x0110, b"Canon EOS R5\0"),
                (0x0131, b"Adobe Photoshop 25.0\0"),
            ],
            &[
                (0x9003, 2, b"2024:05:01 10:00:00\0"),
                (0x829A, 5, &[1, 0, 0, 0, 100, 0, 0, 0]),
            ],
        );
        let f = parse(&tiff).unwrap();
        assert_eq!(f.make.as_deref(), Some("Canon"));
        assert_eq!(f.model.as_deref(), Some("Canon EOS R5"));
        assert_eq!(f.software.as_deref(), Some("Adobe Photoshop 25.0"));
        assert_eq!(f.date_time_original.as_deref(), Some("2024:05:01 10:00:00"));
        assert!(f.has_exposure);
    }

    #[test]
    fn user_comment_unicode_and_ascii() {
        let mut v = b"UNICODE\0".to_vec();
        for c in "Steps: 20".encode_utf16() {
            v.extend(c.to_be_bytes());
        }
        assert_eq!(user_comment(&v, false).as_deref(), Some("Steps: 20"));
        assert_eq!(
            user_comment(b"ASCII\0\0\0hello", false).as_deref(),
            Some("hello")
        );
    }

    #[test]
    fn loops_and_garbage_do_not_hang_or_panic() {
        // IFD0 at 8 whose Exif pointer points back to itself.
        let mut t = b"II*\0\x08\0\0\0\x01\0".to_vec();
        t.extend(0x8769u16.to_le_bytes());
        t.extend(4u16.to_le_bytes());
        t.extend(1u32.to_le_bytes());
        t.extend(8u32.to_le_bytes());
        t.extend(0u32.to_le_bytes());
        assert!(parse(&t).is_some());
        for n in 0..t.len() {
            let _ = parse(&t[..n]);
        }
        assert!(parse(b"not tiff").is_none());
    }
}
