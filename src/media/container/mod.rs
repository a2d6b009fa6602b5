//! The container layer: one walker per format that lists a file's
//! segments, chunks or boxes with their exact byte ranges, without decoding
//! pixels. Metadata reading (`media::metadata`), provenance (where the C2PA
//! store sits, whether the file is whole) and the fused report (truncated
//! uploads) all read files through [`walk`]; [`rewrite`] edits them
//! (insert or replace an XMP packet, keeping every other byte).
//!
//! | format | walker | segments |
//! |---|---|---|
//! | JPEG | [`jpeg`] | markers to EOI, through the entropy-coded scans |
//! | PNG | [`png`] | chunks to IEND, each CRC checked |
//! | WebP | [`riff`] | RIFF chunks |
//! | TIFF | [`tiff`] | IFD chain: XMP, C2PA and image-data entries |
//! | HEIF, AVIF | [`bmff`] | top-level boxes; `meta` items (Exif, XMP), `ispe` |
//! | GIF, BMP | header only | dimensions; metadata is found by scanning |
//!
//! Why hand-written walkers rather than a crate (`img-parts`, which the C2PA
//! SDK uses for JPEG): provenance needs the exact byte range of every
//! segment (to check that a hard binding excludes only the manifest store),
//! forensics needs partial results and the place of the damage on broken
//! files (img-parts refuses a damaged file as a whole and hides offsets),
//! and batch scans need a walk that borrows the bytes instead of copying
//! them. Each walker is small, bounds-checked at every read (`get`, checked
//! arithmetic, no indexing that can panic), and fuzzed (`tests/fuzz.rs`).
//!
//! A walk never fails on damage: it stops (or, for a bad PNG CRC, goes on)
//! and records the first [`Damage`] with its byte offset, so a caller can
//! decide whether damage is an error (an unreadable upload) or evidence (a
//! signed file changed after signing).

pub mod bmff;
pub mod jpeg;
pub mod png;
pub mod rewrite;
pub mod riff;
pub mod tiff;

use std::ops::Range;

use super::format::Format;
use crate::error::{Error, Result};

/// Largest inflated size of one compressed text chunk (PNG zTXt/iTXt).
pub const MAX_INFLATE: usize = 4 << 20;
/// Largest total of inflated text per file.
pub const MAX_INFLATE_TOTAL: usize = 16 << 20;

/// A segment's identity in its own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// A JPEG marker code (the byte after 0xFF).
    Jpeg(u8),
    /// A PNG chunk type.
    Png([u8; 4]),
    /// A RIFF chunk id.
    Riff([u8; 4]),
    /// A TIFF tag (the segment is that entry's value).
    Tiff(u16),
    /// An ISO BMFF box type (or item type, for items inside `meta`).
    Bmff([u8; 4]),
}

/// What a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// EXIF (a TIFF structure, after any format prefix).
    Exif,
    /// An XMP packet.
    Xmp,
    /// A slice of a JPEG extended XMP packet.
    XmpExtension,
    /// A keyword/text pair (PNG tEXt, zTXt, iTXt other than XMP) or a JPEG comment.
    Text,
    /// A piece of an embedded C2PA manifest store (JUMBF).
    C2pa,
    /// Pixel data.
    Image,
    /// Anything else (headers, colour profiles, unknown chunks).
    Other,
}

/// One segment, chunk, box or tag value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Its identity in the format.
    pub tag: Tag,
    /// What it holds.
    pub role: Role,
    /// The whole segment: header, payload and trailer (CRC, padding).
    pub range: Range<usize>,
    /// The payload, without the format's own header; for EXIF and XMP in
    /// JPEG, also without the namespace prefix.
    pub data: Range<usize>,
}

/// How a file is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DamageKind {
    /// The file ends early (a cut upload).
    Truncated,
    /// The structure is inconsistent (a failed checksum, a bad marker or length).
    Corrupt,
}

/// The first structural damage met, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Truncated or corrupt.
    pub kind: DamageKind,
    /// Byte offset where the walk met it.
    pub at: usize,
    /// What, in words ("PNG: IDAT chunk at byte 57 fails its CRC").
    pub detail: String,
}

impl Damage {
    pub(crate) fn truncated(at: usize, detail: impl Into<String>) -> Self {
        Damage {
            kind: DamageKind::Truncated,
            at,
            detail: detail.into(),
        }
    }

    pub(crate) fn corrupt(at: usize, detail: impl Into<String>) -> Self {
        Damage {
            kind: DamageKind::Corrupt,
            at,
            detail: detail.into(),
        }
    }

    /// One line for a report: "truncated: ..." or "corrupt: ...".
    pub fn message(&self) -> String {
        match self.kind {
            DamageKind::Truncated => format!("truncated: {}", self.detail),
            DamageKind::Corrupt => format!("corrupt: {}", self.detail),
        }
    }

    /// The damage as an error (for callers that refuse damaged files).
    pub fn to_error(&self) -> Error {
        Error::Decode(match self.kind {
            DamageKind::Truncated => format!("file is truncated ({})", self.detail),
            DamageKind::Corrupt => format!("file is corrupt ({})", self.detail),
        })
    }
}

/// A walked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    /// The format, from the magic bytes.
    pub format: Format,
    /// Pixel width and height from the headers, when found.
    pub dimensions: Option<(u32, u32)>,
    /// Every segment met, in file order (for TIFF and BMFF: the entries and
    /// items that matter, in the order met).
    pub segments: Vec<Segment>,
    /// The first damage met, if any.
    pub damage: Option<Damage>,
}

impl Structure {
    fn new(format: Format) -> Self {
        Structure {
            format,
            dimensions: None,
            segments: Vec::new(),
            damage: None,
        }
    }

    pub(crate) fn push(&mut self, tag: Tag, role: Role, range: Range<usize>, data: Range<usize>) {
        self.segments.push(Segment {
            tag,
            role,
            range,
            data,
        });
    }

    /// Record damage (only the first is kept).
    pub(crate) fn damaged(&mut self, d: Damage) {
        if self.damage.is_none() {
            self.damage = Some(d);
        }
    }

    /// Segments holding `role`.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(move |s| s.role == role)
    }

    /// Byte ranges of the embedded C2PA manifest store, contiguous pieces
    /// merged (for TIFF, also the entry count the SDK excludes). A RIFF
    /// chunk's range ends where its declared size ends: the pad byte after
    /// an odd-sized store is not part of the chunk, and signers hash it.
    /// Empty when the file carries none.
    pub fn manifest_ranges(&self) -> Vec<Range<u64>> {
        let mut out: Vec<Range<u64>> = Vec::new();
        for s in self.with_role(Role::C2pa) {
            let end = match s.tag {
                Tag::Riff(_) => s.data.end,
                _ => s.range.end,
            };
            let r = s.range.start as u64..end as u64;
            match out.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => out.push(r),
            }
        }
        out
    }

    /// Whether the file carries an embedded C2PA manifest store.
    pub fn has_manifest(&self) -> bool {
        self.segments.iter().any(|s| s.role == Role::C2pa)
    }

    /// The bytes of a segment's payload.
    pub fn data<'a>(&self, bytes: &'a [u8], s: &Segment) -> &'a [u8] {
        bytes.get(s.data.clone()).unwrap_or_default()
    }
}

/// Walk a file. Errors only when the bytes are empty or not a recognised
/// image format; damage is recorded in [`Structure::damage`].
pub fn walk(bytes: &[u8]) -> Result<Structure> {
    if bytes.is_empty() {
        return Err(Error::Decode("empty file".into()));
    }
    let format = Format::sniff(bytes)
        .ok_or_else(|| Error::Unsupported("not a recognised image format".into()))?;
    let mut s = Structure::new(format);
    match format {
        Format::Jpeg => jpeg::walk(bytes, &mut s),
        Format::Png => png::walk(bytes, &mut s),
        Format::Webp => riff::walk(bytes, &mut s),
        Format::Tiff => tiff::walk(bytes, &mut s),
        Format::Heif | Format::Avif => bmff::walk(bytes, &mut s),
        Format::Gif => {
            s.dimensions = le16_pair(bytes, 6);
        }
        Format::Bmp => {
            s.dimensions = le32_pair(bytes, 18);
        }
    }
    Ok(s)
}

/// A metadata block, decoded from its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block<'a> {
    /// A TIFF-structured EXIF block (the whole file, for TIFF).
    Exif(&'a [u8]),
    /// An XMP packet (lossy UTF-8).
    Xmp(String),
    /// A keyword/text pair.
    Text {
        /// The keyword (`Comment` for a JPEG comment).
        key: String,
        /// The text.
        value: String,
    },
    /// An embedded C2PA manifest store (reported once per file).
    C2pa,
}

/// The metadata blocks of a walked file, each with where it was found
/// ("JPEG APP1 EXIF", "PNG iTXt XMP", ...), plus problems met decoding them.
#[derive(Debug, Default)]
pub struct Blocks<'a> {
    /// `(location, block)` in file order.
    pub blocks: Vec<(&'static str, Block<'a>)>,
    /// Blocks that could not be decoded.
    pub warnings: Vec<String>,
}

/// Decode the metadata blocks of a walked file.
pub fn blocks<'a>(bytes: &'a [u8], s: &Structure) -> Blocks<'a> {
    let mut out = Blocks::default();
    match s.format {
        Format::Jpeg => jpeg::blocks(bytes, s, &mut out),
        Format::Png => png::blocks(bytes, s, &mut out),
        Format::Webp => riff::blocks(bytes, s, &mut out),
        Format::Tiff => {
            out.blocks.push(("TIFF IFD", Block::Exif(bytes)));
            if s.has_manifest() {
                out.blocks.push(("TIFF IFD", Block::C2pa));
            }
        }
        Format::Heif | Format::Avif => bmff::blocks(bytes, s, &mut out),
        Format::Gif | Format::Bmp => {}
    }
    let scan_raw = matches!(
        s.format,
        Format::Gif | Format::Bmp | Format::Heif | Format::Avif
    );
    if scan_raw && !out.blocks.iter().any(|(_, b)| matches!(b, Block::Xmp(_))) {
        if let Some(x) = raw_xmp(bytes) {
            out.blocks.push(("embedded XMP packet", Block::Xmp(x)));
        }
    }
    out
}

/// A raw XMP packet anywhere in the bytes (GIF application extensions, BMFF
/// items the walk did not resolve, sidecars).
fn raw_xmp(b: &[u8]) -> Option<String> {
    let start = memchr::memmem::find(b, b"<x:xmpmeta")?;
    let rest = b.get(start..)?;
    let end = memchr::memmem::find(rest, b"</x:xmpmeta>")
        .map(|e| e + b"</x:xmpmeta>".len())
        .unwrap_or(rest.len());
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

pub(crate) fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn le16_pair(b: &[u8], at: usize) -> Option<(u32, u32)> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some((
        u32::from(u16::from_le_bytes([s[0], s[1]])),
        u32::from(u16::from_le_bytes([s[2], s[3]])),
    ))
}

fn le32_pair(b: &[u8], at: usize) -> Option<(u32, u32)> {
    let w = le32(b, at)? as i32;
    let h = le32(b, at + 4)? as i32;
    Some((w.unsigned_abs(), h.unsigned_abs()))
}

/// A chunk or box type for messages: printable ASCII kept, other bytes as
/// `\xNN` (hostile files put newlines there; errors stay one line).
pub(crate) fn fourcc(id: &[u8]) -> String {
    id.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                char::from(c).to_string()
            } else {
                format!("\\x{c:02x}")
            }
        })
        .collect()
}

/// Latin-1 bytes as a string (PNG text keywords and tEXt values).
pub(crate) fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// Split at the first NUL: (before, after); no NUL gives (all, empty).
pub(crate) fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(0, data) {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}
