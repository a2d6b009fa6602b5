//! Container walkers: pull the metadata blocks (EXIF, XMP, text chunks,
//! C2PA/JUMBF boxes) out of JPEG, PNG, WebP and TIFF files without decoding
//! any pixels.
//!
//! Walkers stop at the first inconsistency (a length running past the end,
//! a missing marker) and record a warning; they never index unchecked, and
//! compressed PNG text is inflated with an output cap so a zip bomb costs at
//! most [`MAX_INFLATE`] bytes.

/// Largest inflated size of one compressed PNG text chunk.
pub(crate) const MAX_INFLATE: usize = 4 << 20;
/// Largest total of inflated text per file.
const MAX_INFLATE_TOTAL: usize = 16 << 20;

/// One metadata block found in a container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A TIFF-structured EXIF block.
    Exif {
        data: Vec<u8>,
        location: &'static str,
    },
    /// An XMP packet.
    Xmp {
        text: String,
        location: &'static str,
    },
    /// A keyword/text pair (PNG tEXt/zTXt/iTXt, JPEG comment).
    Text {
        key: String,
        value: String,
        location: &'static str,
    },
    /// A C2PA manifest store (JUMBF) is embedded.
    C2pa { location: &'static str },
}

/// Items found and problems met while walking.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub items: Vec<Item>,
    pub warnings: Vec<String>,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn be32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

const XMP_JPEG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_JPEG: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

/// JPEG: APP1 EXIF / XMP (and extended XMP), APP11 JUMBF, COM; stops at SOS.
pub(crate) fn jpeg(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    let mut ext_xmp = Vec::new();
    let mut pos = 2; // after SOI
    loop {
        // Skip fill bytes up to a marker.
        while b.get(pos) == Some(&0xFF) && b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(pos), b.get(pos + 1)) else {
            if pos < b.len() {
                w.warnings.push(format!("JPEG: no marker at byte {pos}"));
            } else {
                w.warnings.push("JPEG: truncated before image data".into());
            }
            break;
        };
        pos += 2;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => break, // EOI, or SOS: metadata comes before the scan
            _ => {}
        }
        let Some(len) = be16(b, pos) else {
            w.warnings.push("JPEG: truncated segment header".into());
            break;
        };
        let Some(seg) = len.checked_sub(2).and_then(|l| b.get(pos + 2..pos + 2 + l)) else {
            w.warnings.push(format!(
                "JPEG: segment 0x{marker:02X} runs past the end of the file"
            ));
            break;
        };
        pos += len;
        match marker {
            0xE1 if seg.starts_with(b"Exif\0") => w.items.push(Item::Exif {
                data: seg.get(6..).unwrap_or_default().to_vec(),
                location: "JPEG APP1 EXIF",
            }),
            0xE1 if seg.starts_with(XMP_JPEG) => w.items.push(Item::Xmp {
                text: String::from_utf8_lossy(seg.get(XMP_JPEG.len()..).unwrap_or_default())
                    .into_owned(),
                location: "JPEG APP1 XMP",
            }),
            // GUID (32) + full length (4) + offset (4), then a slice of the packet.
            0xE1 if seg.starts_with(XMP_EXT_JPEG) => {
                ext_xmp.extend_from_slice(seg.get(XMP_EXT_JPEG.len() + 40..).unwrap_or_default());
            }
            // One store may span many APP11 segments: report it once.
            0xEB if seg.starts_with(b"JP")
                && contains(seg, b"c2pa")
                && !w.items.iter().any(|i| matches!(i, Item::C2pa { .. })) =>
            {
                w.items.push(Item::C2pa {
                    location: "JPEG APP11 JUMBF",
                });
            }
            0xFE => w.items.push(Item::Text {
                key: "Comment".into(),
                value: String::from_utf8_lossy(seg).into_owned(),
                location: "JPEG COM",
            }),
            _ => {}
        }
    }
    if !ext_xmp.is_empty() {
        w.items.push(Item::Xmp {
            text: String::from_utf8_lossy(&ext_xmp).into_owned(),
            location: "JPEG APP1 extended XMP",
        });
    }
    w
}

/// PNG: tEXt, zTXt, iTXt (XMP in `XML:com.adobe.xmp`), eXIf, caBX.
pub(crate) fn png(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    let mut inflated_total = 0usize;
    let mut pos = 8;
    while pos < b.len() {
        let (Some(len), Some(kind)) = (be32(b, pos), b.get(pos + 4..pos + 8)) else {
            w.warnings.push("PNG: truncated chunk header".into());
            break;
        };
        let Some(data) = pos.checked_add(8 + len).and_then(|end| b.get(pos + 8..end)) else {
            w.warnings.push(format!(
                "PNG: chunk {} runs past the end of the file",
                String::from_utf8_lossy(kind)
            ));
            break;
        };
        pos += 12 + len; // data + CRC
        match kind {
            b"tEXt" => {
                let (key, text) = split_nul(data);
                w.items.push(Item::Text {
                    key: latin1(key),
                    value: latin1(text),
                    location: "PNG tEXt",
                });
            }
            b"zTXt" => {
                let (key, rest) = split_nul(data);
                match rest.get(1..).and_then(|z| inflate(z, &mut inflated_total)) {
                    Some(text) => w.items.push(Item::Text {
                        key: latin1(key),
                        value: latin1(&text),
                        location: "PNG zTXt",
                    }),
                    None => w
                        .warnings
                        .push(format!("PNG: zTXt {} could not be inflated", latin1(key))),
                }
            }
            b"iTXt" => match itxt(data, &mut inflated_total) {
                Some((key, text)) if key == "XML:com.adobe.xmp" => w.items.push(Item::Xmp {
                    text,
                    location: "PNG iTXt XMP",
                }),
                Some((key, value)) => w.items.push(Item::Text {
                    key,
                    value,
                    location: "PNG iTXt",
                }),
                None => w.warnings.push("PNG: malformed iTXt chunk".into()),
            },
            b"eXIf" => w.items.push(Item::Exif {
                data: data.to_vec(),
                location: "PNG eXIf",
            }),
            b"caBX" => w.items.push(Item::C2pa {
                location: "PNG caBX",
            }),
            b"IEND" => return w,
            _ => {}
        }
    }
    if w.warnings.is_empty() {
        w.warnings.push("PNG: no IEND chunk".into());
    }
    w
}

/// WebP (RIFF): EXIF, `XMP `, C2PA chunks.
pub(crate) fn webp(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    let mut pos = 12;
    while pos + 8 <= b.len() {
        let (Some(kind), Some(len)) = (b.get(pos..pos + 4), le32(b, pos + 4)) else {
            break;
        };
        let Some(data) = pos.checked_add(8 + len).and_then(|end| b.get(pos + 8..end)) else {
            w.warnings.push(format!(
                "WebP: chunk {} runs past the end of the file",
                String::from_utf8_lossy(kind)
            ));
            break;
        };
        pos += 8 + len + (len & 1);
        match kind {
            b"EXIF" => w.items.push(Item::Exif {
                // Some writers keep JPEG's "Exif\0\0" prefix.
                data: data.strip_prefix(b"Exif\0\0").unwrap_or(data).to_vec(),
                location: "WebP EXIF",
            }),
            b"XMP " => w.items.push(Item::Xmp {
                text: String::from_utf8_lossy(data).into_owned(),
                location: "WebP XMP",
            }),
            b"C2PA" => w.items.push(Item::C2pa {
                location: "WebP C2PA",
            }),
            _ => {}
        }
    }
    w
}

/// TIFF: the file is the EXIF structure; XMP sits in tag 700 (read by the
/// EXIF reader).
pub(crate) fn tiff(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    w.items.push(Item::Exif {
        data: b.to_vec(),
        location: "TIFF IFD",
    });
    w
}

/// Any other file: look for a raw XMP packet (GIF application extension,
/// HEIF `mime` item, sidecars).
pub(crate) fn raw_xmp(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    if let Some(start) = find(b, b"<x:xmpmeta") {
        let end = find(b.get(start..).unwrap_or_default(), b"</x:xmpmeta>")
            .map(|e| start + e + b"</x:xmpmeta>".len())
            .unwrap_or(b.len());
        w.items.push(Item::Xmp {
            text: String::from_utf8_lossy(b.get(start..end).unwrap_or_default()).into_owned(),
            location: "embedded XMP packet",
        });
    }
    w
}

fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|c| *c == 0) {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

fn inflate(z: &[u8], total: &mut usize) -> Option<Vec<u8>> {
    let cap = MAX_INFLATE.min(MAX_INFLATE_TOTAL.saturating_sub(*total));
    let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, cap).ok()?;
    *total += out.len();
    Some(out)
}

/// iTXt: keyword, compression flag and method, language tag, translated
/// keyword, text (UTF-8).
fn itxt(data: &[u8], total: &mut usize) -> Option<(String, String)> {
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

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}
