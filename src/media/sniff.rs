//! Format sniffing from magic bytes: the file's content decides, never its
//! extension.

/// Image container formats hallmark recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// HEIF / HEIC / AVIF (ISO BMFF): recognised, not decodable here.
    Heif,
}

impl Format {
    /// Guess the format from the first bytes of a file.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let starts = |m: &[u8]| bytes.len() >= m.len() && &bytes[..m.len()] == m;
        if starts(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else if starts(b"II*\0") || starts(b"MM\0*") {
            Some(Format::Tiff)
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Some(Format::Gif)
        } else if starts(b"BM") && bytes.len() >= 26 {
            Some(Format::Bmp)
        } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            let brand = &bytes[8..12];
            [b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heif"]
                .iter()
                .any(|b| brand == *b)
                .then_some(Format::Heif)
        } else {
            None
        }
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
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Tiff => "tif",
            Format::Gif => "gif",
            Format::Bmp => "bmp",
            Format::Heif => "heic",
        }
    }

    pub(crate) fn image_format(self) -> Option<image::ImageFormat> {
        Some(match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Webp => image::ImageFormat::WebP,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Gif => image::ImageFormat::Gif,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Heif => return None,
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
        assert_eq!(Format::sniff(b"hello world"), None);
        assert_eq!(Format::sniff(b""), None);
    }
}
