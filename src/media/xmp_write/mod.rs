//! Writing XMP properties into image files (JPEG, PNG, WebP), merged into
//! the XMP already there: every other property, namespace, comment and the
//! `<?xpacket?>` wrapper are kept, each property set replaces all earlier
//! occurrences of itself (duplicates included), and JPEG extended XMP stays
//! consistent with `xmpNote:HasExtendedXMP`.
//!
//! The packet is parsed with a real XML parser (`dom.rs`, on `quick-xml`),
//! with namespaces resolved, so `TC260:AIGC` is found whatever prefix a
//! file binds to its namespace. A packet that does not parse is not
//! rewritten: the error says why, and the file is left alone.
//!
//! JPEG limits the standard packet to one segment (65,504 bytes). When a
//! merged packet does not fit, its padding goes first; if it still does
//! not fit, the largest other properties move to the extended packet (as
//! Adobe's XMP toolkit does), which gets a new GUID (the MD5 of its bytes)
//! named by `xmpNote:HasExtendedXMP` in the standard packet.

mod dom;

use dom::{Element, Node, Place};

use super::container::{self, rewrite};
use super::Format;
use crate::error::{Error, Result};

/// The IPTC Extension namespace (`Iptc4xmpExt:DigitalSourceType`).
pub const IPTC_EXT_NS: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
/// The XMP note namespace (`xmpNote:HasExtendedXMP`).
pub const XMP_NOTE_NS: &str = "http://ns.adobe.com/xmp/note/";
/// Padding written inside the packet wrapper, so editors can grow the
/// packet in place.
pub const PADDING: usize = 2048;

const EMPTY_PACKET: &str = "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  <rdf:Description rdf:about=\"\"/>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>";

const EMPTY_EXTENDED: &str = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  <rdf:Description rdf:about=\"\"/>\n </rdf:RDF>\n</x:xmpmeta>";

/// One simple property to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Namespace URI.
    pub ns: String,
    /// Prefix to bind when the namespace is not bound yet.
    pub prefix: String,
    /// Local name.
    pub local: String,
    /// Value (plain text; escaped when written).
    pub value: String,
}

impl Property {
    /// A property `prefix:local` in namespace `ns`.
    pub fn new(ns: &str, prefix: &str, local: &str, value: &str) -> Self {
        Property {
            ns: ns.into(),
            prefix: prefix.into(),
            local: local.into(),
            value: value.into(),
        }
    }
}

/// Check that a packet is well-formed XML that hallmark could rewrite;
/// the error says why not.
pub fn check_packet(packet: &str) -> std::result::Result<(), String> {
    dom::parse(packet).map(|_| ())
}

/// The values of property `(ns, local)` in a packet (attribute or element
/// form, every occurrence), e.g. to read back what [`set_properties`] wrote.
pub fn property_values(packet: &str, ns: &str, local: &str) -> Result<Vec<String>> {
    let nodes = dom::parse(packet).map_err(|why| Error::Decode(format!("XMP: {why}")))?;
    Ok(dom::values(&nodes, ns, local))
}

/// Set `props` in the XMP of an image file (JPEG, PNG, WebP), keeping
/// everything else; see the module docs. Refused: damaged files, files
/// with a C2PA manifest (see [`rewrite`]), several standard packets, and
/// packets that do not parse.
pub fn set_properties(bytes: &[u8], props: &[Property]) -> Result<Vec<u8>> {
    let s = container::walk(bytes)?;
    if let Some(d) = &s.damage {
        return Err(d.to_error());
    }
    if !matches!(s.format, Format::Jpeg | Format::Png | Format::Webp) {
        return Err(Error::Unsupported(format!(
            "writing XMP into {} files (JPEG, PNG and WebP are supported)",
            s.format.mime()
        )));
    }
    let packets = rewrite::xmp_packets(bytes, &s)?;
    if packets.standard.len() > 1 {
        return Err(Error::InvalidInput(format!(
            "the file carries {} XMP packets where one is allowed; \
             hallmark will not choose which to keep",
            packets.standard.len()
        )));
    }
    let mut nodes = match packets.standard.first() {
        Some(p) => dom::parse(p).map_err(|why| unmergeable("XMP packet", &why))?,
        None => dom::parse(EMPTY_PACKET).map_err(Error::InvalidInput)?,
    };
    for p in props {
        set(&mut nodes, p)?;
    }
    let standard = serialize(&nodes, PADDING);
    if s.format != Format::Jpeg || standard.len() <= rewrite::MAX_JPEG_XMP {
        return rewrite::set_xmp(bytes, &standard);
    }
    let standard = serialize(&nodes, 0);
    if standard.len() <= rewrite::MAX_JPEG_XMP {
        return rewrite::set_xmp(bytes, &standard);
    }
    let keep: Vec<(&str, &str)> = props
        .iter()
        .map(|p| (p.ns.as_str(), p.local.as_str()))
        .collect();
    let existing = current_extended(&nodes, &packets)?;
    let (standard, extended) = split_extended(&mut nodes, existing.as_deref(), &keep)?;
    rewrite::set_xmp_extended(bytes, &standard, &extended)
}

/// The error for a packet that does not parse.
fn unmergeable(what: &str, why: &str) -> Error {
    Error::InvalidInput(format!(
        "the file's {what} cannot be merged ({why}); \
         hallmark does not rewrite XMP it cannot parse"
    ))
}

/// Set one property: remove every occurrence, add it to the first description.
fn set(nodes: &mut [Node], p: &Property) -> Result<()> {
    let bad = |why: String| Error::InvalidInput(format!("XMP: {why}"));
    dom::remove(nodes, &p.ns, &p.local);
    let path = dom::target_description(nodes).map_err(bad)?;
    let prefix = dom::bind(nodes, &path, &p.ns, &p.prefix).map_err(bad)?;
    dom::append(
        nodes,
        &path,
        Element::with_text(&format!("{prefix}:{}", p.local), &p.value),
    )
    .map_err(bad)
}

/// Set a property in attribute form on the first description.
fn set_attribute(nodes: &mut [Node], p: &Property) -> Result<()> {
    let bad = |why: String| Error::InvalidInput(format!("XMP: {why}"));
    dom::remove(nodes, &p.ns, &p.local);
    let path = dom::target_description(nodes).map_err(bad)?;
    let prefix = dom::bind(nodes, &path, &p.ns, &p.prefix).map_err(bad)?;
    let d = dom::get_mut(nodes, &path).ok_or_else(|| bad("description vanished".into()))?;
    d.set_attr(&format!("{prefix}:{}", p.local), &p.value);
    Ok(())
}

/// Serialise, with `padding` bytes of whitespace before the closing
/// `<?xpacket end?>` (when the packet has the wrapper).
fn serialize(nodes: &[Node], padding: usize) -> String {
    let mut nodes = nodes.to_vec();
    let end = nodes
        .iter()
        .rposition(|n| matches!(n, Node::Markup(m) if m.starts_with("<?xpacket end")));
    if let Some(end) = end {
        let pad = Node::Text(padding_text(padding));
        match end.checked_sub(1).and_then(|i| nodes.get_mut(i)) {
            Some(n @ Node::Text(_)) => *n = pad,
            _ => nodes.insert(end, pad),
        }
    }
    dom::write(&nodes)
}

/// Whitespace in lines of 100 bytes, ending with a newline.
fn padding_text(n: usize) -> String {
    let mut s = String::with_capacity(n + 1);
    s.push('\n');
    while s.len() < n {
        let line = (n - s.len()).min(100);
        s.push_str(&" ".repeat(line.saturating_sub(1)));
        s.push('\n');
    }
    s
}

/// The extended packet the standard packet names, if the file has it.
fn current_extended(nodes: &[Node], packets: &rewrite::XmpPackets) -> Result<Option<String>> {
    let Some(guid) = dom::values(nodes, XMP_NOTE_NS, "HasExtendedXMP")
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    match packets.extended.iter().find(|e| e.guid == guid.trim()) {
        Some(e) => match &e.packet {
            Ok(p) => Ok(Some(p.clone())),
            Err(why) => Err(Error::InvalidInput(format!(
                "the file's extended XMP {guid} {why}; hallmark will not rewrite it"
            ))),
        },
        None => Ok(None),
    }
}

/// Move the largest properties (other than `keep`) from the standard packet
/// into the extended one until the standard packet fits a JPEG segment.
/// Returns (standard, extended).
fn split_extended(
    nodes: &mut [Node],
    existing: Option<&str>,
    keep: &[(&str, &str)],
) -> Result<(String, String)> {
    let mut ext = match existing {
        Some(p) => dom::parse(p).map_err(|why| unmergeable("extended XMP", &why))?,
        None => dom::parse(EMPTY_EXTENDED).map_err(Error::InvalidInput)?,
    };
    let placeholder = "0".repeat(32);
    let note = |v: &str| Property::new(XMP_NOTE_NS, "xmpNote", "HasExtendedXMP", v);
    set_attribute(nodes, &note(&placeholder))?;
    while serialize(nodes, 0).len() > rewrite::MAX_JPEG_XMP {
        let Some((path, index, scope)) = largest_movable(nodes, keep) else {
            return Err(Error::Limits(format!(
                "the XMP does not fit a JPEG segment ({} bytes at most) \
                 even with every other property moved to extended XMP",
                rewrite::MAX_JPEG_XMP
            )));
        };
        let d = dom::get_mut(nodes, &path)
            .ok_or_else(|| Error::InvalidInput("XMP: description vanished".into()))?;
        let Node::Element(mut el) = d.children.remove(index) else {
            return Err(Error::InvalidInput("XMP: property vanished".into()));
        };
        if index > 0
            && matches!(d.children.get(index - 1), Some(Node::Text(t)) if t.trim().is_empty())
        {
            d.children.remove(index - 1);
        }
        for (prefix, uri) in dom::needed_bindings(&el, &scope) {
            let name = format!("xmlns:{prefix}");
            if el.attr(&name).is_none() {
                el.set_attr(&name, &uri);
            }
        }
        let target = dom::target_description(&mut ext)
            .map_err(|why| Error::InvalidInput(format!("extended XMP: {why}")))?;
        dom::append(&mut ext, &target, el)
            .map_err(|why| Error::InvalidInput(format!("extended XMP: {why}")))?;
    }
    let extended = dom::write(&ext);
    set_attribute(nodes, &note(&rewrite::extended_guid(&extended)))?;
    Ok((serialize(nodes, 0), extended))
}

/// The largest child-element property of any description, not in `keep`:
/// (description path, child index, scope inside the description).
fn largest_movable(
    nodes: &[Node],
    keep: &[(&str, &str)],
) -> Option<(Vec<usize>, usize, dom::Scope)> {
    let mut best: Option<(usize, Vec<usize>, usize, dom::Scope)> = None;
    for (path, scope) in dom::descriptions(nodes) {
        let Some(d) = dom::get(nodes, &path) else {
            continue;
        };
        for (i, c) in d.children.iter().enumerate() {
            let Node::Element(el) = c else { continue };
            let kept = keep.iter().any(|(ns, local)| {
                dom::find(nodes, ns, local)
                    .iter()
                    .any(|f| f.description == path && f.at == Place::Child(i))
            });
            if kept {
                continue;
            }
            let size = dom::write(&[Node::Element(el.clone())]).len();
            if best.as_ref().is_none_or(|b| size > b.0) {
                best = Some((size, path.clone(), i, scope.clone()));
            }
        }
    }
    best.map(|(_, p, i, s)| (p, i, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xmp_of(bytes: &[u8]) -> String {
        let s = container::walk(bytes).unwrap();
        rewrite::xmp_packets(bytes, &s).unwrap().standard.remove(0)
    }

    fn png() -> Vec<u8> {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
        crate::media::encode(&img, Format::Png).unwrap()
    }

    #[test]
    fn writes_a_fresh_packet_and_merges_into_it() {
        let a = Property::new(IPTC_EXT_NS, "Iptc4xmpExt", "DigitalSourceType", "x & y");
        let out = set_properties(&png(), std::slice::from_ref(&a)).unwrap();
        let x = xmp_of(&out);
        assert!(x.starts_with("<?xpacket begin="), "{x}");
        assert!(x.ends_with("<?xpacket end=\"w\"?>"));
        let b = Property::new("urn:other", "o", "Thing", "1");
        let out = set_properties(&out, &[b]).unwrap();
        let x = xmp_of(&out);
        assert_eq!(
            property_values(&x, IPTC_EXT_NS, "DigitalSourceType").unwrap(),
            ["x & y"]
        );
        assert_eq!(property_values(&x, "urn:other", "Thing").unwrap(), ["1"]);
    }

    #[test]
    fn padding_has_the_asked_size() {
        for n in [0, 1, 99, 100, 101, 2048] {
            let p = padding_text(n);
            assert!(p.len() >= n && p.len() <= n + 1, "{n}: {}", p.len());
            assert!(p.trim().is_empty());
        }
    }
}
