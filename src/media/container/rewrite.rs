//! Rewriting containers, keeping every byte that is not being changed as it
//! was (segments, chunks, pixels, EXIF, colour profiles):
//!
//! - [`set_xmp`] inserts or replaces the standard XMP packet:
//!   - JPEG: one APP1 `http://ns.adobe.com/xap/1.0/` segment, placed where
//!     the old packet was, else after the leading APP0/APP1 (JFIF, EXIF)
//!     segments. Extended-XMP slices (APP1
//!     `http://ns.adobe.com/xmp/extension/`) are kept as they are: the
//!     caller keeps `xmpNote:HasExtendedXMP` in the new packet. A packet
//!     must fit one segment (65,504 bytes); [`set_xmp_extended`] writes a
//!     standard packet and a new extended one (replacing the old slices).
//!   - PNG: one uncompressed `iTXt` chunk `XML:com.adobe.xmp`, where the old
//!     one was, else right after `IHDR`.
//!   - WebP: one `XMP ` chunk, where the old one was, else last; the `VP8X`
//!     header gets its XMP flag, and a simple (VP8/VP8L-only) file gets a
//!     `VP8X` header first, as the WebP container spec requires.
//! - [`xmp_packets`] reads the packets the way the rewriter sees them.
//! - [`strip_manifest`] removes an embedded C2PA manifest store (to re-sign
//!   changed bytes with the old file recorded as an ingredient).
//! - [`carry_metadata`] copies a file's metadata (EXIF, XMP, colour
//!   profile, text) onto a re-encoding of its pixels.
//!
//! Damaged files are refused (a rewrite must not hide damage), and so are
//! files carrying an embedded C2PA manifest: new bytes break its hard
//! binding, so labels are written before signing, never after (strip the
//! store first, and record the signed original as an ingredient).

use super::jpeg::ExtendedXmp;
use super::{jpeg, png, riff, walk, Role, Segment, Structure, Tag};
use crate::error::{Error, Result};
use crate::media::Format;

/// Walk a file that must be whole (damage is an error).
fn walk_whole(bytes: &[u8]) -> Result<Structure> {
    let s = walk(bytes)?;
    match &s.damage {
        Some(d) => Err(d.to_error()),
        None => Ok(s),
    }
}

/// Walk a file to be rewritten: whole, and without a C2PA manifest.
fn walk_writable(bytes: &[u8]) -> Result<Structure> {
    let s = walk_whole(bytes)?;
    if s.has_manifest() {
        return Err(Error::InvalidInput(
            "the file carries a C2PA manifest that new metadata would invalidate; \
             write metadata before signing (hallmark sign re-signs such a file \
             with the original as its parent ingredient)"
                .into(),
        ));
    }
    Ok(s)
}

/// The XMP packets of a file, as [`set_xmp`] sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmpPackets {
    /// Standard packets (a conforming file has at most one).
    pub standard: Vec<String>,
    /// JPEG extended XMP packets.
    pub extended: Vec<ExtendedXmp>,
}

/// Read the XMP packets of a walked file (JPEG, PNG, WebP). A packet that
/// is not UTF-8 is an error: rewriting it would change it.
pub fn xmp_packets(bytes: &[u8], s: &Structure) -> Result<XmpPackets> {
    let mut out = XmpPackets::default();
    for seg in s.with_role(Role::Xmp) {
        let data = s.data(bytes, seg);
        let text = match s.format {
            Format::Png => png::itxt(data, &mut 0)
                .map(|(_, t)| t)
                .ok_or_else(|| Error::Decode("PNG: the XMP iTXt chunk cannot be read".into()))?,
            _ => String::from_utf8(data.to_vec()).map_err(|_| {
                Error::Decode(format!(
                    "the XMP packet at byte {} is not UTF-8",
                    seg.range.start
                ))
            })?,
        };
        out.standard.push(text);
    }
    if s.format == Format::Jpeg {
        out.extended = jpeg::extended_xmp(bytes, s);
    }
    Ok(out)
}

/// `bytes` with `xmp` as its one standard XMP packet (JPEG, PNG, WebP).
/// JPEG extended-XMP slices are kept.
pub fn set_xmp(bytes: &[u8], xmp: &str) -> Result<Vec<u8>> {
    let s = walk_writable(bytes)?;
    match s.format {
        Format::Jpeg => jpeg_set_xmp(bytes, &s, xmp, None),
        Format::Png => {
            let ihdr_end = s
                .segments
                .first()
                .map_or(png::SIGNATURE.len(), |g| g.range.end);
            Ok(splice(
                bytes,
                &s,
                &[Role::Xmp],
                ihdr_end,
                &png::xmp_chunk(xmp),
            ))
        }
        Format::Webp => webp_set_xmp(bytes, &s, xmp),
        other => Err(Error::Unsupported(format!(
            "writing XMP into {} files",
            other.mime()
        ))),
    }
}

/// Replace the segments with one of `roles` by `new` (at the first one's
/// place, or at `default_at` when there is none); everything else is kept.
fn splice(bytes: &[u8], s: &Structure, roles: &[Role], default_at: usize, new: &[u8]) -> Vec<u8> {
    let old: Vec<&Segment> = s
        .segments
        .iter()
        .filter(|g| roles.contains(&g.role))
        .collect();
    let at = old.first().map_or(default_at, |g| g.range.start);
    let mut out = Vec::with_capacity(bytes.len() + new.len());
    let mut pos = 0;
    let mut inserted = false;
    for g in &old {
        if !inserted && g.range.start >= at {
            out.extend_from_slice(bytes.get(pos..at).unwrap_or_default());
            out.extend_from_slice(new);
            inserted = true;
            pos = at;
        }
        out.extend_from_slice(bytes.get(pos..g.range.start).unwrap_or_default());
        pos = g.range.end;
    }
    if !inserted {
        out.extend_from_slice(bytes.get(pos..at).unwrap_or_default());
        out.extend_from_slice(new);
        pos = at;
    }
    out.extend_from_slice(bytes.get(pos..).unwrap_or_default());
    out
}

/// A JPEG with `standard` as its XMP packet and `extended` as its one
/// extended XMP packet (old slices replaced). `standard` must name the
/// extended packet's GUID ([`extended_guid`]) in `xmpNote:HasExtendedXMP`.
pub fn set_xmp_extended(bytes: &[u8], standard: &str, extended: &str) -> Result<Vec<u8>> {
    let s = walk_writable(bytes)?;
    if s.format != Format::Jpeg {
        return Err(Error::Unsupported(format!(
            "extended XMP is a JPEG feature, not {}",
            s.format.mime()
        )));
    }
    let guid = extended_guid(extended);
    if !standard.contains(&guid) {
        return Err(Error::InvalidInput(format!(
            "the standard XMP packet does not name the extended packet's GUID {guid}"
        )));
    }
    if extended.len() > jpeg::MAX_EXTENDED_XMP {
        return Err(Error::Limits(format!(
            "extended XMP of {} bytes (at most {})",
            extended.len(),
            jpeg::MAX_EXTENDED_XMP
        )));
    }
    let ext = jpeg::extended_segments(&guid, extended.as_bytes());
    jpeg_set_xmp(bytes, &s, standard, Some(&ext))
}

/// The GUID of an extended XMP packet: the MD5 of its bytes, 32 upper-case
/// hex digits (XMP Specification Part 3).
pub fn extended_guid(packet: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode_upper(Md5::digest(packet.as_bytes()))
}

/// The largest standard XMP packet one JPEG APP1 segment holds.
pub const MAX_JPEG_XMP: usize = jpeg::MAX_SEGMENT_DATA - jpeg::XMP_NS.len();

fn jpeg_set_xmp(
    bytes: &[u8],
    s: &Structure,
    xmp: &str,
    extended: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let payload = jpeg::XMP_NS.len() + xmp.len();
    if payload > jpeg::MAX_SEGMENT_DATA {
        return Err(Error::InvalidInput(format!(
            "XMP packet of {} bytes does not fit one JPEG segment ({} at most)",
            xmp.len(),
            jpeg::MAX_SEGMENT_DATA - jpeg::XMP_NS.len()
        )));
    }
    let mut seg = vec![0xFF, jpeg::APP1];
    seg.extend_from_slice(&((payload + 2) as u16).to_be_bytes());
    seg.extend_from_slice(jpeg::XMP_NS);
    seg.extend_from_slice(xmp.as_bytes());
    // After SOI and the leading APP0 (JFIF) / APP1 (EXIF) segments.
    let mut at = 2;
    for g in &s.segments {
        match (g.tag, g.role) {
            (Tag::Jpeg(0xE0), _) | (Tag::Jpeg(jpeg::APP1), Role::Exif) => at = g.range.end,
            _ => break,
        }
    }
    match extended {
        Some(ext) => {
            seg.extend_from_slice(ext);
            Ok(splice(bytes, s, &[Role::Xmp, Role::XmpExtension], at, &seg))
        }
        None => Ok(splice(bytes, s, &[Role::Xmp], at, &seg)),
    }
}

fn webp_set_xmp(bytes: &[u8], s: &Structure, xmp: &str) -> Result<Vec<u8>> {
    let riff_end = s.segments.last().map_or(12, |g| g.range.end);
    let mut out = splice(
        bytes,
        s,
        &[Role::Xmp],
        riff_end,
        &riff::chunk(b"XMP ", xmp.as_bytes()),
    );
    let vp8x = s.segments.iter().find(|g| g.tag == Tag::Riff(*b"VP8X"));
    match vp8x {
        Some(g) => {
            // The header precedes any XMP chunk, so its offset is unchanged.
            if let Some(flags) = out.get_mut(g.data.start) {
                *flags |= VP8X_XMP;
            }
        }
        None => {
            let dims = s
                .dimensions
                .filter(|(w, h)| *w > 0 && *h > 0)
                .ok_or_else(|| Error::Decode("WebP: no image header".into()))?;
            let alpha = if webp_alpha(bytes, s) { VP8X_ALPHA } else { 0 };
            out.splice(12..12, vp8x_chunk(VP8X_XMP | alpha, dims));
        }
    }
    fix_riff_size(&mut out)?;
    Ok(out)
}

/// `bytes` without its embedded C2PA manifest store (JPEG APP11 segments,
/// PNG `caBX`, WebP `C2PA`), everything else as it was. A file without one
/// comes back unchanged.
pub fn strip_manifest(bytes: &[u8]) -> Result<Vec<u8>> {
    let s = walk_whole(bytes)?;
    if !s.has_manifest() {
        return Ok(bytes.to_vec());
    }
    if !matches!(s.format, Format::Jpeg | Format::Png | Format::Webp) {
        return Err(Error::Unsupported(format!(
            "removing a manifest from {} files",
            s.format.mime()
        )));
    }
    let mut out = splice(bytes, &s, &[Role::C2pa], 0, &[]);
    if s.format == Format::Webp {
        fix_riff_size(&mut out)?;
    }
    Ok(out)
}

fn fix_riff_size(out: &mut [u8]) -> Result<()> {
    let riff_size = u32::try_from(out.len().saturating_sub(8))
        .map_err(|_| Error::Limits("WebP files are limited to 4 GiB".into()))?;
    if let Some(size) = out.get_mut(4..8) {
        size.copy_from_slice(&riff_size.to_le_bytes());
    }
    Ok(())
}

/// PNG chunks that describe the file rather than its pixel encoding, and so
/// survive a re-encoding: colour space, physical size, EXIF, text, time.
const PNG_CARRIED: [&[u8; 4]; 13] = [
    b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"mDCV", b"cLLI", b"pHYs", b"eXIf", b"tEXt",
    b"zTXt", b"iTXt", b"tIME",
];

/// `encoded` (a fresh encoding of `original`'s pixels, in the same format)
/// with `original`'s metadata carried over:
/// - JPEG: APP1..APP15 and COM segments, but APP14 (its colour-transform
///   flag describes the old encoding), the C2PA store and, for a CMYK
///   original, the ICC profile;
/// - PNG: colour, EXIF, text and time chunks;
/// - WebP: `ICCP`, `EXIF` and `XMP ` chunks (with the `VP8X` flags they need).
pub fn carry_metadata(original: &[u8], encoded: &[u8]) -> Result<Vec<u8>> {
    let o = walk_whole(original)?;
    let e = walk_whole(encoded)?;
    if o.format != e.format {
        return Err(Error::InvalidInput(format!(
            "cannot carry {} metadata into a {} file",
            o.format.mime(),
            e.format.mime()
        )));
    }
    let pick = |s: &Structure, keep: &dyn Fn(&Segment) -> bool| -> Vec<Segment> {
        s.segments.iter().filter(|g| keep(g)).cloned().collect()
    };
    match o.format {
        Format::Jpeg => {
            // A CMYK original's ICC profile (APP2) does not describe the
            // RGB re-encoding: it stays behind.
            let cmyk = o
                .segments
                .iter()
                .find(|g| {
                    matches!(
                        g.tag,
                        Tag::Jpeg(0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
                    )
                })
                .and_then(|g| original.get(g.data.start + 5))
                == Some(&4);
            let carried = |g: &Segment| match g.tag {
                Tag::Jpeg(0xE2) if cmyk => false,
                Tag::Jpeg(c) => {
                    (matches!(c, 0xE1..=0xEF) && c != 0xEE && g.role != Role::C2pa) || c == 0xFE
                }
                _ => false,
            };
            let old = pick(&o, &carried);
            let drop = pick(&e, &carried);
            // After SOI and the encoder's own APP0 (JFIF).
            let at = e
                .segments
                .iter()
                .take_while(|g| g.tag == Tag::Jpeg(0xE0))
                .last()
                .map_or(2, |g| g.range.end);
            Ok(transplant(original, &old, encoded, &drop, at))
        }
        Format::Png => {
            let carried = |g: &Segment| matches!(g.tag, Tag::Png(k) if PNG_CARRIED.contains(&&k));
            let old = pick(&o, &carried);
            let drop = pick(&e, &carried);
            let at = e
                .segments
                .first()
                .map_or(png::SIGNATURE.len(), |g| g.range.end);
            Ok(transplant(original, &old, encoded, &drop, at))
        }
        Format::Webp => webp_carry(original, &o, encoded, &e),
        other => Err(Error::Unsupported(format!(
            "carrying metadata in {} files",
            other.mime()
        ))),
    }
}

/// `encoded` without the segments `drop`, with `original`'s segments `old`
/// inserted at `at` (an offset in `encoded` outside every dropped segment).
fn transplant(
    original: &[u8],
    old: &[Segment],
    encoded: &[u8],
    drop: &[Segment],
    at: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() + original.len() / 8);
    let mut pos = 0;
    let mut inserted = false;
    let insert = |out: &mut Vec<u8>| {
        for g in old {
            out.extend_from_slice(original.get(g.range.clone()).unwrap_or_default());
        }
    };
    for g in drop {
        if !inserted && g.range.start >= at {
            out.extend_from_slice(encoded.get(pos..at).unwrap_or_default());
            insert(&mut out);
            inserted = true;
            pos = at;
        }
        out.extend_from_slice(encoded.get(pos..g.range.start).unwrap_or_default());
        pos = g.range.end;
    }
    if !inserted {
        out.extend_from_slice(encoded.get(pos..at).unwrap_or_default());
        insert(&mut out);
        pos = at;
    }
    out.extend_from_slice(encoded.get(pos..).unwrap_or_default());
    out
}

/// The VP8X flags for ICC, alpha, EXIF and XMP.
const VP8X_ICC: u8 = 0x20;
const VP8X_ALPHA: u8 = 0x10;
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

/// A `VP8X` chunk for a `w` x `h` canvas.
fn vp8x_chunk(flags: u8, (w, h): (u32, u32)) -> Vec<u8> {
    let mut data = vec![flags, 0, 0, 0];
    data.extend_from_slice(&w.saturating_sub(1).to_le_bytes()[..3]);
    data.extend_from_slice(&h.saturating_sub(1).to_le_bytes()[..3]);
    riff::chunk(b"VP8X", &data)
}

/// Whether a WebP's pixels carry alpha (its VP8X flag, an ALPH chunk, or
/// the VP8L header's alpha bit).
fn webp_alpha(bytes: &[u8], s: &Structure) -> bool {
    s.segments.iter().any(|g| match g.tag {
        Tag::Riff(id) if &id == b"VP8X" => {
            bytes.get(g.data.start).is_some_and(|f| f & VP8X_ALPHA != 0)
        }
        Tag::Riff(id) if &id == b"ALPH" => true,
        Tag::Riff(id) if &id == b"VP8L" => {
            bytes.get(g.data.start + 4).is_some_and(|b| b & 0x10 != 0)
        }
        _ => false,
    })
}

/// WebP in the extended layout: `VP8X`, `ICCP`, the image chunks of
/// `encoded`, then `EXIF` and `XMP ` from `original`.
fn webp_carry(original: &[u8], o: &Structure, encoded: &[u8], e: &Structure) -> Result<Vec<u8>> {
    let find = |id: &[u8; 4]| {
        o.segments
            .iter()
            .find(|g| g.tag == Tag::Riff(*id))
            .map(|g| o.data(original, g))
    };
    let (icc, exif, xmp) = (find(b"ICCP"), find(b"EXIF"), find(b"XMP "));
    let dims = e
        .dimensions
        .filter(|(w, h)| *w > 0 && *h > 0)
        .ok_or_else(|| Error::Decode("WebP: no image header".into()))?;
    let mut flags = if webp_alpha(encoded, e) {
        VP8X_ALPHA
    } else {
        0
    };
    for (present, f) in [
        (icc.is_some(), VP8X_ICC),
        (exif.is_some(), VP8X_EXIF),
        (xmp.is_some(), VP8X_XMP),
    ] {
        if present {
            flags |= f;
        }
    }
    let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
    out.extend_from_slice(&vp8x_chunk(flags, dims));
    if let Some(icc) = icc {
        out.extend_from_slice(&riff::chunk(b"ICCP", icc));
    }
    for g in &e.segments {
        let Tag::Riff(id) = g.tag else { continue };
        if !matches!(&id, b"VP8X" | b"ICCP" | b"EXIF" | b"XMP ") {
            out.extend_from_slice(encoded.get(g.range.clone()).unwrap_or_default());
        }
    }
    if let Some(exif) = exif {
        out.extend_from_slice(&riff::chunk(b"EXIF", exif));
    }
    if let Some(xmp) = xmp {
        out.extend_from_slice(&riff::chunk(b"XMP ", xmp));
    }
    fix_riff_size(&mut out)?;
    Ok(out)
}
