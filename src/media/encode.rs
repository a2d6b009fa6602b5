//! The one image encoder for outputs hallmark writes itself (watermarked
//! images): PNG and WebP lossless, JPEG at quality 95 with 4:2:0 chroma.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat};

use super::format::Format;
use crate::error::{Error, Result};

/// JPEG quality for re-encoded outputs.
pub const JPEG_QUALITY: u8 = 95;

/// Encode `img` as `format` (JPEG, PNG or WebP).
pub fn encode(img: &DynamicImage, format: Format) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let res = match format {
        Format::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut buf, JPEG_QUALITY))
        }
        Format::Png => img.write_to(&mut Cursor::new(&mut buf), ImageFormat::Png),
        Format::Webp => {
            // The WebP encoder takes 8-bit RGB(A) only.
            let conv = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            conv.write_to(&mut Cursor::new(&mut buf), ImageFormat::WebP)
        }
        other => {
            return Err(Error::Unsupported(format!(
                "cannot write {other:?} images; use PNG, JPEG or WebP"
            )))
        }
    };
    res.map_err(|e| Error::InvalidInput(format!("cannot encode the image: {e}")))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_format() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        }));
        for f in [Format::Png, Format::Jpeg, Format::Webp] {
            let bytes = encode(&img, f).unwrap();
            assert_eq!(Format::sniff(&bytes), Some(f));
            let back = crate::media::decode(&bytes, &Default::default()).unwrap();
            assert_eq!((back.width(), back.height()), (40, 30));
        }
        assert!(encode(&img, Format::Gif).is_err());
    }
}
