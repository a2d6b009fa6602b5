//! Media input: the one format layer every engine reads files through.
//!
//! - [`mod@format`]: the [`Format`] enum, the single source of magic bytes,
//!   media types, extensions, decoders and encoders.
//! - [`container`]: one walker per format (segments, chunks, boxes with
//!   their byte ranges; truncation and corruption found without decoding
//!   pixels) and the rewriter (insert or replace an XMP packet).
//! - [`mod@decode`]: the one guarded pixel decoder, with explicit [`Limits`] so
//!   hostile files cannot exhaust memory; [`mod@encode`] the one encoder.
//! - [`metadata`]: IPTC/XMP, GB 45438, generator text chunks, EXIF, read
//!   from the container's blocks; [`source_type`] is the one IPTC
//!   DigitalSourceType table.
//! - [`xmp_write`]: setting XMP properties in a file, merged into the XMP
//!   already there (a real XML parser; JPEG extended XMP kept consistent).

pub mod container;
pub mod decode;
pub mod encode;
pub mod format;
pub mod metadata;
pub mod source_type;
pub mod xmp_write;

pub use decode::{decode, decode_file, read_file, Limits};
pub use encode::encode;
pub use format::Format;
