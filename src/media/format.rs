//! The image formats hallmark knows: the one [`Format`] enum, the single
//! source of magic bytes, media types, file extensions, which pixel decoder
//! and encoder serve a format, and which formats carry C2PA manifests.
//! The container walker of each format is [`super::container`].
//!
//! The file's content decides its format, never its extension; extensions
//! only pick files out of folders and name outputs.

/// Image container formats hallmark recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG.
    Png,
    /// WebP (RIFF container).
    Webp,
    /// TIFF (either byte order).
    Tiff,
    /// GIF 87a / 89a.
    Gif,
    /// Windows bitmap.
    Bmp,
    /// HEIF / HEIC (ISO BMFF): manifests and metadata read, pixels not decoded.
    Heif,
    /// AVIF (ISO BMFF): manifests and metadata read, pixels not decoded.
    Avif,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 8] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Tiff,
        Format::Gif,
        Format::Bmp,
        Format::Heif,
        Format::Avif,
    ];

    /// Guess the format from the first bytes of a file.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let starts = |m: &[u8]| bytes.starts_with(m);
        if starts(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.len() >= 12 && starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            Some(Format::Webp)
        } else if starts(b"II*\0") || starts(b"MM\0*") {
            Some(Format::Tiff)
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Some(Format::Gif)
        } else if starts(b"BM") && bytes.len() >= 26 {
            Some(Format::Bmp)
        } else if bytes.get(4..8) == Some(b"ftyp") {
            let brand = bytes.get(8..12)?;
            if [b"avif", b"avis"].iter().any(|b| brand == *b) {
                Some(Format::Avif)
            } else if [
                b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"heif",
            ]
            .iter()
            .any(|b| brand == *b)
            {
                Some(Format::Heif)
            } else {
                None
            }
        } else {
            None
        }
    }

    /// The format whose extension `ext` is (no dot, any case).
    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| {
            f.extensions()
                .iter()
                .any(|e| e.eq_ignore_ascii_case(ext.trim_start_matches('.')))
        })
    }

    /// The IANA media type, as C2PA and HTTP name it.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Tiff => "image/tiff",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
            Format::Heif => "image/heif",
            Format::Avif => "image/avif",
        }
    }

    /// The file extensions of the format, lower case, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Format::Png => &["png"],
            Format::Webp => &["webp"],
            Format::Tiff => &["tif", "tiff"],
            Format::Gif => &["gif"],
            Format::Bmp => &["bmp"],
            Format::Heif => &["heic", "heif"],
            Format::Avif => &["avif"],
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.extensions().first().copied().unwrap_or("bin")
    }

    /// Whether hallmark can write images of this format (watermarked outputs).
    pub fn can_encode(self) -> bool {
        matches!(self, Format::Jpeg | Format::Png | Format::Webp)
    }

    /// Whether hallmark reads and verifies C2PA manifests embedded in this
    /// format (where the pinned c2pa SDK reads them and [`super::container`]
    /// locates the store for the hard-binding check).
    pub fn carries_manifests(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Webp | Format::Tiff | Format::Heif | Format::Avif
        )
    }

    /// Whether `sign` embeds manifests in this format.
    pub fn can_sign(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Webp | Format::Tiff
        )
    }

    /// The pixel decoder, `None` where hallmark cannot decode pixels.
    pub(crate) fn image_format(self) -> Option<image::ImageFormat> {
        Some(match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Webp => image::ImageFormat::WebP,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Gif => image::ImageFormat::Gif,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Heif | Format::Avif => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_not_extension() {
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypheic"), Some(Format::Heif));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypavif"), Some(Format::Avif));
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypisom"), None);
        assert_eq!(Format::sniff(b"hello world"), None);
        assert_eq!(Format::sniff(b""), None);
    }

    #[test]
    fn extensions_are_one_table() {
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
        assert_eq!(Format::from_extension("JPEG"), Some(Format::Jpeg));
        assert_eq!(Format::from_extension(".tiff"), Some(Format::Tiff));
        assert_eq!(Format::from_extension("txt"), None);
    }
}
