//! The one place images are decoded, with explicit limits.
//!
//! Untrusted files reach this function from every command. It walks the
//! container (format from the bytes, truncation, corruption), refuses
//! images over [`Limits`] before allocating
//! their pixels, maps decoder failures to clear [`Error`]s, and converts a
//! decoder panic (a bug in a codec, not ours to crash on) into an error so a
//! batch scan never aborts on one bad file.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use image::{DynamicImage, ImageError, ImageReader};

use super::container::{self, Structure};
use crate::error::{Error, Result};

/// Limits applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted width or height, in pixels.
    pub max_side: u32,
    /// Largest accepted pixel count (width x height).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    /// 65,535 px a side, 100 megapixels, 2 GiB of decoder memory, 512 MiB files.
    fn default() -> Self {
        Limits {
            max_side: 65_535,
            max_pixels: 100_000_000,
            max_alloc: 2 << 30,
            max_file_bytes: 512 << 20,
        }
    }
}

/// Read a whole file, refusing files over `limits.max_file_bytes`.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > limits.max_file_bytes {
        return Err(Error::Limits(format!(
            "file is {} bytes, limit is {}",
            meta.len(),
            limits.max_file_bytes
        )));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Read and decode an image file.
pub fn decode_file(path: &Path, limits: &Limits) -> Result<DynamicImage> {
    let bytes = read_file(path, limits)?;
    decode(&bytes, limits)
}

/// Decode image bytes under `limits`. The container is walked first: a
/// truncated or corrupt file is an error here, never partial pixels (some
/// decoders fill a cut image with grey and report success).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
    let walked = container::walk(bytes)?;
    decode_walked(bytes, &walked, limits)
}

/// [`decode`] for bytes already walked by [`container::walk`].
pub fn decode_walked(bytes: &[u8], walked: &Structure, limits: &Limits) -> Result<DynamicImage> {
    if let Some(d) = &walked.damage {
        return Err(d.to_error());
    }
    let format = walked.format;
    let image_format = format.image_format().ok_or_else(|| {
        Error::Unsupported(format!("{} images cannot be decoded here", format.mime()))
    })?;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        decode_checked(bytes, image_format, limits)
    }));
    match outcome {
        Ok(result) => result,
        Err(_) => Err(Error::Decode(format!(
            "{} decoder failed on malformed data",
            format.mime()
        ))),
    }
}

fn decode_checked(
    bytes: &[u8],
    format: image::ImageFormat,
    limits: &Limits,
) -> Result<DynamicImage> {
    // First pass reads the header only: refuse huge images before allocating.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits_of(limits));
    let (w, h) = reader.into_dimensions().map_err(map_image_error)?;
    check_dimensions(w, h, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits_of(limits));
    reader.decode().map_err(map_image_error)
}

fn image_limits_of(limits: &Limits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc);
    l
}

/// Check a width and height against the limits (also used by encoders that
/// produce images, e.g. after an attack in a benchmark).
pub fn check_dimensions(w: u32, h: u32, limits: &Limits) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(Error::Decode(format!("image has zero size ({w}x{h})")));
    }
    if w > limits.max_side || h > limits.max_side {
        return Err(Error::Limits(format!(
            "{w}x{h} exceeds {} px a side",
            limits.max_side
        )));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(Error::Limits(format!(
            "{w}x{h} is {:.1} MP, limit is {:.1} MP",
            pixels as f64 / 1e6,
            limits.max_pixels as f64 / 1e6
        )));
    }
    Ok(())
}

fn map_image_error(e: ImageError) -> Error {
    // Codec messages sometimes span lines; errors here are one line.
    fn one_line(s: String) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    match e {
        ImageError::Limits(l) => Error::Limits(one_line(l.to_string())),
        ImageError::Unsupported(u) => Error::Unsupported(one_line(u.to_string())),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::Decode("file is truncated".into())
        }
        ImageError::IoError(io) => Error::Decode(one_line(io.to_string())),
        ImageError::Decoding(d) => Error::Decode(one_line(d.to_string())),
        ImageError::Parameter(p) => Error::Decode(one_line(p.to_string())),
        ImageError::Encoding(e) => Error::Decode(one_line(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_a_good_png() {
        let img = decode(&png_bytes(17, 9), &Limits::default()).unwrap();
        assert_eq!((img.width(), img.height()), (17, 9));
    }

    #[test]
    fn truncated_png_is_a_decode_error() {
        let bytes = png_bytes(64, 64);
        let err = decode(&bytes[..bytes.len() / 2], &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
    }

    #[test]
    fn oversized_dimensions_are_refused_before_decoding() {
        let limits = Limits {
            max_pixels: 100,
            ..Limits::default()
        };
        let err = decode(&png_bytes(20, 20), &limits).unwrap_err();
        assert!(matches!(err, Error::Limits(_)), "{err:?}");
    }

    #[test]
    fn unknown_bytes_are_unsupported() {
        let err = decode(b"definitely not an image", &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
        assert!(matches!(
            decode(b"", &Limits::default()),
            Err(Error::Decode(_))
        ));
    }
}
