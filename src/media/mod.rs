//! Media input: format sniffing and the one guarded image decoder.
//!
//! Every image hallmark looks at is decoded through [`decode::decode`], which
//! applies explicit [`decode::Limits`] so hostile files cannot exhaust memory.
//! Metadata readers (IPTC/XMP, GB 45438, generator text chunks, EXIF) live in
//! `metadata`.

pub mod decode;
pub mod encode;
pub mod metadata;
pub mod sniff;

pub use decode::{decode, decode_file, read_file, Limits};
pub use encode::encode;
pub use sniff::Format;
