//! The claim thumbnail a manifest may carry (`c2pa.thumbnail.claim.*`): the
//! picture the signer saw, which a viewer shows beside the verdict so a
//! reader can compare it with the image in hand.
//!
//! Only raster formats a browser shows safely are returned; the bytes are
//! the signer's, unverified here (validity is the verifier's job, and the
//! thumbnail assertion is covered by the claim signature it checks).

use std::io::Cursor;

use c2pa::{Context, Reader};

use crate::error::Result;
use crate::media::container;

/// A thumbnail image from a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Its media type (`image/jpeg`, `image/png`, `image/webp` or `image/gif`).
    pub format: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
}

/// The active manifest's claim thumbnail, if the file embeds a manifest that
/// has one. A file without a manifest, or with an unreadable one, has none
/// (`Ok(None)`); a file that is not a readable image is an error.
pub fn thumbnail(bytes: &[u8]) -> Result<Option<Thumbnail>> {
    let layout = container::walk(bytes)?;
    if !layout.has_manifest() {
        return Ok(None);
    }
    let Ok(reader) =
        Reader::from_context(Context::new()).with_stream(layout.format.mime(), Cursor::new(bytes))
    else {
        return Ok(None);
    };
    let Some((format, data)) = reader.active_manifest().and_then(|m| m.thumbnail()) else {
        return Ok(None);
    };
    let format = format.to_ascii_lowercase();
    let shown = ["image/jpeg", "image/png", "image/webp", "image/gif"];
    if !shown.contains(&format.as_str()) {
        return Ok(None);
    }
    Ok(Some(Thumbnail {
        format,
        bytes: data.into_owned(),
    }))
}
