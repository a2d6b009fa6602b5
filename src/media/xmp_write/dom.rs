//! A small XML tree of an XMP packet, parsed with `quick-xml`, for edits
//! that keep everything else as written: unknown properties, namespaces,
//! comments, the `<?xpacket?>` wrapper, text exactly as escaped in the
//! source. Namespaces are resolved properly (a property is found by its
//! namespace URI, whatever prefix the file binds to it).
//!
//! Malformed input is an error with the reason and byte offset, never a
//! guess: a packet hallmark cannot parse is not rewritten. XMP forbids DTDs,
//! so a `DOCTYPE` (and with it any custom entity) is refused.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The RDF namespace.
pub(crate) const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
/// The `x:xmpmeta` namespace.
const X_NS: &str = "adobe:ns:meta/";
const MAX_DEPTH: usize = 128;
const MAX_EVENTS: usize = 1_000_000;

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// An element.
    Element(Element),
    /// Character data, escaped as in the source (consecutive pieces merged).
    Text(String),
    /// Other markup written back verbatim: CDATA, comments, processing
    /// instructions, the XML declaration.
    Markup(String),
}

/// An element with its attributes as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    /// Qualified name as written (`prefix:local`).
    pub name: String,
    /// `(qualified name, value escaped for a double-quoted attribute)`.
    pub attrs: Vec<(String, String)>,
    /// Children in order.
    pub children: Vec<Node>,
}

/// The in-scope namespace bindings, innermost last.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope(Vec<(String, String)>);

impl Scope {
    fn enter(&mut self, el: &Element) -> usize {
        let mark = self.0.len();
        for (name, value) in &el.attrs {
            let prefix = match name.as_str() {
                "xmlns" => Some(""),
                n => n.strip_prefix("xmlns:"),
            };
            if let Some(p) = prefix {
                self.0.push((p.to_string(), unescape(value)));
            }
        }
        mark
    }

    fn leave(&mut self, mark: usize) {
        self.0.truncate(mark);
    }

    /// The URI bound to `prefix` ("" for the default namespace).
    pub fn uri(&self, prefix: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    /// A prefix bound to `uri`, if any is in scope and not shadowed.
    fn prefix_of(&self, uri: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(p, u)| u == uri && !p.is_empty())
            .map(|(p, _)| p.as_str())
            .find(|p| self.uri(p) == Some(uri))
    }

    /// `(namespace, local)` of an element name.
    fn element(&self, qname: &str) -> (Option<&str>, String) {
        match qname.split_once(':') {
            Some((p, l)) => (self.uri(p), l.to_string()),
            None => (self.uri(""), qname.to_string()),
        }
    }

    /// `(namespace, local)` of an attribute name (unprefixed: no namespace).
    fn attribute(&self, qname: &str) -> (Option<&str>, String) {
        match qname.split_once(':') {
            Some((p, l)) if p != "xmlns" => (self.uri(p), l.to_string()),
            _ => (None, qname.to_string()),
        }
    }
}

impl Element {
    /// A new element with only text content (`value` unescaped).
    pub fn with_text(name: &str, value: &str) -> Element {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            children: vec![Node::Text(escape_text(value))],
        }
    }

    /// The unescaped text content: its own text and CDATA for a simple
    /// element; for a struct or an array, the texts of its leaves joined
    /// with "; ".
    pub fn text(&self) -> String {
        if self.children.iter().any(|c| matches!(c, Node::Element(_))) {
            let leaves: Vec<String> = self
                .children
                .iter()
                .filter_map(|c| match c {
                    Node::Element(e) => Some(e.text()),
                    _ => None,
                })
                .filter(|t| !t.trim().is_empty())
                .collect();
            return leaves.join("; ");
        }
        let mut out = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(&unescape(t)),
                Node::Markup(m) => {
                    if let Some(body) = m
                        .strip_prefix("<![CDATA[")
                        .and_then(|m| m.strip_suffix("]]>"))
                    {
                        out.push_str(body);
                    }
                }
                Node::Element(_) => {}
            }
        }
        out
    }

    /// The unescaped value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| unescape(v))
    }

    /// Set (or add) attribute `name` to `value` (unescaped).
    pub fn set_attr(&mut self, name: &str, value: &str) {
        let v = escape_attr(value);
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.attrs.push((name.to_string(), v)),
        }
    }

    fn push_child(&mut self, node: Node) {
        push(&mut self.children, node);
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (n, v) in &self.attrs {
            out.push(' ');
            out.push_str(n);
            out.push_str("=\"");
            out.push_str(v);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        write_nodes(&self.children, out);
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Append a node, merging adjacent text.
fn push(nodes: &mut Vec<Node>, node: Node) {
    if let (Some(Node::Text(prev)), Node::Text(t)) = (nodes.last_mut(), &node) {
        prev.push_str(t);
        return;
    }
    nodes.push(node);
}

fn write_nodes(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Element(e) => e.write(out),
            Node::Text(t) | Node::Markup(t) => out.push_str(t),
        }
    }
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "the XMP packet is not UTF-8".to_string())
}

fn element(e: &BytesStart<'_>) -> Result<Element, String> {
    let name = utf8(e.name().as_ref())?;
    let mut attrs = Vec::new();
    for a in e.attributes().with_checks(true) {
        let a = a.map_err(|err| format!("bad attribute in <{name}>: {err}"))?;
        let key = utf8(a.key.as_ref())?;
        let raw = utf8(&a.value)?;
        quick_xml::escape::unescape(&raw)
            .map_err(|err| format!("attribute {key} of <{name}>: {err}"))?;
        // A value quoted with ' may hold a raw ": we always write ".
        attrs.push((key, raw.replace('"', "&quot;")));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// Parse a packet into top-level nodes.
pub(crate) fn parse(text: &str) -> Result<Vec<Node>, String> {
    let mut reader = Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
    }
    let mut stack: Vec<Element> = Vec::new();
    let mut top: Vec<Node> = Vec::new();
    let mut events = 0usize;
    loop {
        let at = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        events += 1;
        if events > MAX_EVENTS {
            return Err(format!("more than {MAX_EVENTS} XML nodes"));
        }
        let node = match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(element(&e)?);
                continue;
            }
            Event::End(_) => match stack.pop() {
                Some(el) => Node::Element(el),
                None => return Err(format!("unmatched end tag at byte {at}")),
            },
            Event::Empty(e) => Node::Element(element(&e)?),
            Event::Text(t) => Node::Text(utf8(&t.into_inner())?),
            Event::GeneralRef(r) => {
                let name = utf8(&r)?;
                let known = matches!(name.as_str(), "lt" | "gt" | "amp" | "quot" | "apos");
                let char_ref = r.resolve_char_ref().ok().flatten().is_some();
                if !known && !char_ref {
                    return Err(format!("undefined entity &{name}; at byte {at}"));
                }
                Node::Text(format!("&{name};"))
            }
            Event::CData(c) => Node::Markup(format!("<![CDATA[{}]]>", utf8(&c.into_inner())?)),
            Event::Comment(c) => Node::Markup(format!("<!--{}-->", utf8(&c.into_inner())?)),
            Event::PI(p) => Node::Markup(format!("<?{}?>", utf8(&p)?)),
            Event::Decl(d) => Node::Markup(format!("<?{}?>", utf8(&d)?)),
            Event::DocType(_) => {
                return Err("XMP must not contain a DOCTYPE (RDF/XMP forbids DTDs)".into())
            }
            Event::Eof => break,
        };
        match stack.last_mut() {
            Some(parent) => parent.push_child(node),
            None => push(&mut top, node),
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("element <{}> is never closed", open.name));
    }
    let roots = top.iter().filter(|n| matches!(n, Node::Element(_))).count();
    if roots != 1 {
        return Err(format!("{roots} root elements (XML needs exactly one)"));
    }
    if top
        .iter()
        .any(|n| matches!(n, Node::Text(t) if !t.trim().is_empty()))
    {
        return Err("text outside the root element".into());
    }
    Ok(top)
}

/// Serialise top-level nodes.
pub(crate) fn write(nodes: &[Node]) -> String {
    let mut out = String::new();
    write_nodes(nodes, &mut out);
    out
}

/// Escape text content.
pub(crate) fn escape_text(v: &str) -> String {
    quick_xml::escape::partial_escape(v).into_owned()
}

/// Escape a value for a double-quoted attribute (whitespace other than
/// spaces kept as character references, so it survives normalisation).
pub(crate) fn escape_attr(v: &str) -> String {
    quick_xml::escape::escape(v)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

/// Unescape a value already checked by the parser (lenient otherwise).
pub(crate) fn unescape(v: &str) -> String {
    match quick_xml::escape::unescape(v) {
        Ok(s) => s.into_owned(),
        Err(_) => v.to_string(),
    }
}

/// Where a property sits: the index path of its `rdf:Description` from
/// the top level, and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Index path to the description.
    pub description: Vec<usize>,
    /// Attribute index or child index within the description.
    pub at: Place,
}

/// An attribute or a child element of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Attribute index.
    Attr(usize),
    /// Child node index.
    Child(usize),
}

/// Visit every top-level `rdf:Description` (children of `rdf:RDF`) with
/// its index path and the scope inside it.
pub(crate) fn descriptions(nodes: &[Node]) -> Vec<(Vec<usize>, Scope)> {
    let mut out = Vec::new();
    let mut scope = Scope::default();
    if let Some(rdf) = find_rdf(nodes, &mut scope, &mut Vec::new()) {
        let (path, mut scope) = rdf;
        if let Some(el) = get(nodes, &path) {
            let mark = scope.enter(el);
            for (i, c) in el.children.iter().enumerate() {
                if let Node::Element(d) = c {
                    let m = scope.enter(d);
                    let (ns, local) = scope.element(&d.name);
                    if ns == Some(RDF_NS) && local == "Description" {
                        let mut p = path.clone();
                        p.push(i);
                        out.push((p, scope.clone()));
                    }
                    scope.leave(m);
                }
            }
            scope.leave(mark);
        }
    }
    out
}

/// The path of the first element resolving to `rdf:RDF`, with the scope
/// outside it.
fn find_rdf(
    nodes: &[Node],
    scope: &mut Scope,
    path: &mut Vec<usize>,
) -> Option<(Vec<usize>, Scope)> {
    for (i, n) in nodes.iter().enumerate() {
        let Node::Element(el) = n else { continue };
        let outer = scope.clone();
        let mark = scope.enter(el);
        let (ns, local) = scope.element(&el.name);
        path.push(i);
        if ns == Some(RDF_NS) && local == "RDF" {
            let found = (path.clone(), outer);
            scope.leave(mark);
            path.pop();
            return Some(found);
        }
        let deeper = find_rdf(&el.children, scope, path);
        scope.leave(mark);
        path.pop();
        if deeper.is_some() {
            return deeper;
        }
    }
    None
}

/// The path of the `x:xmpmeta` (or `x:xapmeta`) element.
fn find_xmpmeta(nodes: &[Node]) -> Option<usize> {
    nodes.iter().position(|n| {
        let Node::Element(el) = n else { return false };
        let mut s = Scope::default();
        s.enter(el);
        let (ns, local) = s.element(&el.name);
        ns == Some(X_NS) && (local == "xmpmeta" || local == "xapmeta")
    })
}

/// The element at an index path.
pub(crate) fn get<'a>(nodes: &'a [Node], path: &[usize]) -> Option<&'a Element> {
    let (first, rest) = path.split_first()?;
    let Node::Element(el) = nodes.get(*first)? else {
        return None;
    };
    if rest.is_empty() {
        return Some(el);
    }
    get(&el.children, rest)
}

/// The element at an index path, mutably.
pub(crate) fn get_mut<'a>(nodes: &'a mut [Node], path: &[usize]) -> Option<&'a mut Element> {
    let (first, rest) = path.split_first()?;
    let Node::Element(el) = nodes.get_mut(*first)? else {
        return None;
    };
    if rest.is_empty() {
        return Some(el);
    }
    get_mut(&mut el.children, rest)
}

/// Every occurrence of property `(ns, local)` as a top-level property of
/// some description, attribute or element form.
pub(crate) fn find(nodes: &[Node], ns: &str, local: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for (path, scope) in descriptions(nodes) {
        let Some(d) = get(nodes, &path) else { continue };
        for (i, (name, _)) in d.attrs.iter().enumerate() {
            let (n, l) = scope.attribute(name);
            if n == Some(ns) && l == local {
                out.push(Found {
                    description: path.clone(),
                    at: Place::Attr(i),
                });
            }
        }
        for (i, c) in d.children.iter().enumerate() {
            let Node::Element(p) = c else { continue };
            let mut s = scope.clone();
            s.enter(p);
            let (n, l) = s.element(&p.name);
            if n == Some(ns) && l == local {
                out.push(Found {
                    description: path.clone(),
                    at: Place::Child(i),
                });
            }
        }
    }
    out
}

/// The values of property `(ns, local)`: attribute values, or the text of
/// simple elements (structs and arrays give their text content).
pub(crate) fn values(nodes: &[Node], ns: &str, local: &str) -> Vec<String> {
    find(nodes, ns, local)
        .into_iter()
        .filter_map(|f| {
            let d = get(nodes, &f.description)?;
            match f.at {
                Place::Attr(i) => d.attrs.get(i).map(|(_, v)| unescape(v)),
                Place::Child(i) => match d.children.get(i)? {
                    Node::Element(e) => Some(e.text()),
                    _ => None,
                },
            }
        })
        .collect()
}

/// Remove every occurrence of property `(ns, local)`; returns how many.
pub(crate) fn remove(nodes: &mut [Node], ns: &str, local: &str) -> usize {
    let found = find(nodes, ns, local);
    // Remove from the back so earlier indices stay valid.
    for f in found.iter().rev() {
        let Some(d) = get_mut(nodes, &f.description) else {
            continue;
        };
        match f.at {
            Place::Attr(i) => {
                if i < d.attrs.len() {
                    d.attrs.remove(i);
                }
            }
            Place::Child(i) => {
                if i < d.children.len() {
                    d.children.remove(i);
                    // Drop the indentation before it too.
                    if i > 0
                        && matches!(d.children.get(i - 1), Some(Node::Text(t)) if t.trim().is_empty())
                    {
                        d.children.remove(i - 1);
                    }
                }
            }
        }
    }
    found.len()
}

/// The description new properties go into: the first one, created (with
/// `rdf:RDF`, inside `x:xmpmeta`) when missing. Returns its path.
pub(crate) fn target_description(nodes: &mut [Node]) -> Result<Vec<usize>, String> {
    if let Some((path, _)) = descriptions(nodes).into_iter().next() {
        return Ok(path);
    }
    let rdf_path = match find_rdf(nodes, &mut Scope::default(), &mut Vec::new()) {
        Some((p, _)) => p,
        None => {
            let meta =
                find_xmpmeta(nodes).ok_or("the XMP packet has neither x:xmpmeta nor rdf:RDF")?;
            let Some(Node::Element(m)) = nodes.get_mut(meta) else {
                return Err("the XMP packet has no x:xmpmeta element".into());
            };
            let mut rdf = Element {
                name: "rdf:RDF".into(),
                attrs: Vec::new(),
                children: Vec::new(),
            };
            rdf.set_attr("xmlns:rdf", RDF_NS);
            m.children.push(Node::Element(rdf));
            vec![meta, m.children.len() - 1]
        }
    };
    let rdf = get_mut(nodes, &rdf_path).ok_or("rdf:RDF vanished")?;
    let prefix = rdf.name.split_once(':').map_or("", |(p, _)| p).to_string();
    let q = |l: &str| {
        if prefix.is_empty() {
            l.to_string()
        } else {
            format!("{prefix}:{l}")
        }
    };
    let mut d = Element {
        name: q("Description"),
        attrs: Vec::new(),
        children: Vec::new(),
    };
    d.set_attr(&q("about"), "");
    rdf.children.push(Node::Element(d));
    let mut p = rdf_path;
    p.push(rdf.children.len() - 1);
    Ok(p)
}

/// Bind a prefix for `ns` on the description at `path` (reusing one
/// already in scope, else `preferred`, else `preferred` with a number) and
/// return it.
pub(crate) fn bind(
    nodes: &mut [Node],
    path: &[usize],
    ns: &str,
    preferred: &str,
) -> Result<String, String> {
    let scope = descriptions(nodes)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, s)| s)
        .ok_or("description not found")?;
    if let Some(p) = scope.prefix_of(ns) {
        return Ok(p.to_string());
    }
    let prefix = (0..100)
        .map(|i| {
            if i == 0 {
                preferred.to_string()
            } else {
                format!("{preferred}{i}")
            }
        })
        .find(|p| scope.uri(p).is_none())
        .ok_or("no free namespace prefix")?;
    let d = get_mut(nodes, path).ok_or("description not found")?;
    d.set_attr(&format!("xmlns:{prefix}"), ns);
    Ok(prefix)
}

/// Append `child` to the description at `path`, indented like its siblings.
pub(crate) fn append(nodes: &mut [Node], path: &[usize], child: Element) -> Result<(), String> {
    let d = get_mut(nodes, path).ok_or("description not found")?;
    let indent = d
        .children
        .iter()
        .find_map(|c| match c {
            Node::Text(t) if t.trim().is_empty() && t.contains('\n') => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "\n   ".to_string());
    // Keep the closing tag's indentation last.
    let closing = match d.children.last() {
        Some(Node::Text(t)) if t.trim().is_empty() => d.children.pop(),
        _ => None,
    };
    push(&mut d.children, Node::Text(indent));
    d.children.push(Node::Element(child));
    d.children
        .push(closing.unwrap_or_else(|| Node::Text("\n  ".to_string())));
    Ok(())
}

/// The namespace bindings an element subtree needs from its context:
/// `(prefix, uri)` for every prefix used in it and bound outside it.
pub(crate) fn needed_bindings(el: &Element, outer: &Scope) -> Vec<(String, String)> {
    let mut prefixes = Vec::new();
    collect_prefixes(el, &mut prefixes);
    let mut out = Vec::new();
    for p in prefixes {
        if let Some(uri) = outer.uri(&p) {
            if !out.iter().any(|(q, _)| q == &p) {
                out.push((p, uri.to_string()));
            }
        }
    }
    out
}

fn collect_prefixes(el: &Element, out: &mut Vec<String>) {
    let mut add = |name: &str| {
        if let Some((p, _)) = name.split_once(':') {
            if p != "xmlns" && p != "xml" && !out.iter().any(|q| q == p) {
                out.push(p.to_string());
            }
        }
    };
    add(&el.name);
    for (n, _) in &el.attrs {
        add(n);
    }
    for c in &el.children {
        if let Node::Element(e) = c {
            collect_prefixes(e, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &str = "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><r:RDF xmlns:r=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n <r:Description r:about=\"\" xmlns:a=\"http://www.tc260.org.cn/ns/AIGC/1.0/\" a:AIGC=\"{&quot;Label&quot;:&quot;1&quot;}\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n  <dc:title><r:Alt><r:li xml:lang=\"x-default\">A &amp; B</r:li></r:Alt></dc:title>\n  <!-- keep me -->\n </r:Description>\n <r:Description r:about=\"\"><AIGC xmlns=\"http://www.tc260.org.cn/ns/AIGC/1.0/\">x</AIGC></r:Description>\n</r:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>";

    #[test]
    fn round_trips_verbatim() {
        let nodes = parse(PACKET).unwrap();
        assert_eq!(write(&nodes), PACKET);
    }

    #[test]
    fn finds_properties_by_namespace_not_prefix() {
        let nodes = parse(PACKET).unwrap();
        let v = values(&nodes, "http://www.tc260.org.cn/ns/AIGC/1.0/", "AIGC");
        assert_eq!(v, [r#"{"Label":"1"}"#, "x"]);
        let t = values(&nodes, "http://purl.org/dc/elements/1.1/", "title");
        assert_eq!(t, ["A & B"]);
    }

    #[test]
    fn remove_then_append_keeps_the_rest() {
        let mut nodes = parse(PACKET).unwrap();
        let ns = "http://www.tc260.org.cn/ns/AIGC/1.0/";
        assert_eq!(remove(&mut nodes, ns, "AIGC"), 2);
        let path = target_description(&mut nodes).unwrap();
        let prefix = bind(&mut nodes, &path, ns, "TC260").unwrap();
        assert_eq!(prefix, "a", "the prefix already bound is reused");
        append(
            &mut nodes,
            &path,
            Element::with_text("a:AIGC", "{\"x\":\"<&>\"}"),
        )
        .unwrap();
        let out = write(&nodes);
        assert!(out.contains("<!-- keep me -->"), "{out}");
        assert!(out.contains("A &amp; B"));
        assert!(
            out.contains("<a:AIGC>{\"x\":\"&lt;&amp;&gt;\"}</a:AIGC>"),
            "{out}"
        );
        let back = parse(&out).unwrap();
        assert_eq!(values(&back, ns, "AIGC"), ["{\"x\":\"<&>\"}"]);
    }

    #[test]
    fn malformed_packets_are_errors() {
        for bad in [
            "<a><b></a>",
            "<a>",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><a>&e;</a>",
            "<a>&e;</a>",
            "<a/><b/>",
            "text<a/>",
            "<a x=\"1\" x=\"2\"/>",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn creates_rdf_and_description_when_missing() {
        let mut nodes = parse("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>").unwrap();
        let path = target_description(&mut nodes).unwrap();
        let p = bind(&mut nodes, &path, "urn:ns", "n").unwrap();
        append(
            &mut nodes,
            &path,
            Element::with_text(&format!("{p}:v"), "1"),
        )
        .unwrap();
        let out = write(&nodes);
        assert_eq!(values(&parse(&out).unwrap(), "urn:ns", "v"), ["1"], "{out}");
    }
}
