//! A forgiving XMP (RDF/XML) property scanner.
//!
//! XMP writes the same property three ways: as an attribute of
//! `rdf:Description` (`Iptc4xmpExt:DigitalSourceType="..."`), as an element
//! with text (`<xmp:CreatorTool>...</xmp:CreatorTool>`, possibly inside an
//! `rdf:Alt`/`rdf:Seq` list) or as an element with `rdf:resource="..."`.
//! This scanner flattens all three into `(qualified name, value)` pairs, in
//! document order. It is not a validating parser: malformed markup yields
//! fewer properties, never an error or a panic, and output is capped.

/// One property occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prop {
    /// Qualified name as written (`prefix:Local`).
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

impl Prop {
    /// The local part of the name (after the prefix).
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }
}

const MAX_PROPS: usize = 4096;
const MAX_DEPTH: usize = 64;

/// Containers whose text belongs to the enclosing property.
fn is_rdf_wrapper(name: &str) -> bool {
    matches!(
        name,
        "rdf:li"
            | "rdf:Alt"
            | "rdf:Seq"
            | "rdf:Bag"
            | "rdf:Description"
            | "rdf:RDF"
            | "x:xmpmeta"
            | "x:xapmeta"
    )
}

/// Flatten an XMP packet into properties.
pub(crate) fn properties(xmp: &str) -> Vec<Prop> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xmp;
    while out.len() < MAX_PROPS {
        let Some(lt) = rest.find('<') else { break };
        let text = rest.get(..lt).unwrap_or_default();
        emit_text(&stack, text, &mut out);
        rest = rest.get(lt..).unwrap_or_default();
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            emit_text(&stack, after.get(..end).unwrap_or_default(), &mut out);
            rest = after.get(end + 3..).unwrap_or_default();
            continue;
        }
        if rest.starts_with("<!--") {
            rest = rest
                .find("-->")
                .and_then(|e| rest.get(e + 3..))
                .unwrap_or_default();
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = rest
                .find('>')
                .and_then(|e| rest.get(e + 1..))
                .unwrap_or_default();
            continue;
        }
        let Some(end) = tag_end(rest) else { break };
        let tag = rest.get(1..end).unwrap_or_default();
        rest = rest.get(end + 1..).unwrap_or_default();
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            if let Some(i) = stack.iter().rposition(|n| n == name) {
                stack.truncate(i);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
        let name = tag.get(..name_end).unwrap_or_default().to_string();
        for (attr, value) in attributes(tag.get(name_end..).unwrap_or_default()) {
            if attr == "rdf:resource" {
                if let Some(owner) = owner(&stack, &name) {
                    out.push(Prop { name: owner, value });
                }
            } else if !attr.starts_with("xmlns")
                && !attr.starts_with("rdf:")
                && !attr.starts_with("xml:")
            {
                out.push(Prop { name: attr, value });
            }
        }
        if !self_closing && stack.len() < MAX_DEPTH {
            stack.push(name);
        }
    }
    out
}

/// The property an element's content belongs to: itself, or the nearest
/// enclosing non-RDF element for list items.
fn owner(stack: &[String], current: &str) -> Option<String> {
    if !is_rdf_wrapper(current) {
        return Some(current.to_string());
    }
    stack.iter().rev().find(|n| !is_rdf_wrapper(n)).cloned()
}

fn emit_text(stack: &[String], text: &str, out: &mut Vec<Prop>) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let Some(top) = stack.last() else { return };
    if let Some(name) = owner(
        stack
            .get(..stack.len().saturating_sub(1))
            .unwrap_or_default(),
        top,
    ) {
        out.push(Prop {
            name,
            value: unescape(text),
        });
    }
}

/// Index of the `>` closing the tag that starts `s`, skipping quoted values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// `name="value"` pairs of a start tag.
fn attributes(mut s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(eq) = s.find('=') {
        let name = s.get(..eq).unwrap_or_default().trim().to_string();
        let after = s.get(eq + 1..).unwrap_or_default().trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let body = after.get(1..).unwrap_or_default();
        let Some(close) = body.find(q) else { break };
        out.push((name, unescape(body.get(..close).unwrap_or_default())));
        s = body.get(close + 1..).unwrap_or_default();
    }
    out
}

/// Resolve XML's predefined and numeric character references.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        rest = rest.get(amp..).unwrap_or_default();
        let semi = rest
            .get(..12.min(rest.len()))
            .and_then(|head| head.find(';'));
        let replaced = semi.and_then(|semi| {
            let entity = rest.get(1..semi)?;
            let c = match entity {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = entity.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi))
        });
        match replaced {
            Some((c, semi)) => {
                out.push(c);
                rest = rest.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(props: &'a [Prop], local: &str) -> Vec<&'a str> {
        props
            .iter()
            .filter(|p| p.local() == local)
            .map(|p| p.value.as_str())
            .collect()
    }

    #[test]
    fn attribute_element_and_resource_forms() {
        let xmp = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Tool &amp; Co"
  Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia">
 <dc:description><rdf:Alt><rdf:li xml:lang="x-default">A &lt;cat&gt;</rdf:li></rdf:Alt></dc:description>
 <plus:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"/>
 <TC260:AIGC><![CDATA[{"Label":"1"}]]></TC260:AIGC>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let p = properties(xmp);
        assert_eq!(find(&p, "CreatorTool"), ["Tool & Co"]);
        assert_eq!(find(&p, "description"), ["A <cat>"]);
        assert_eq!(find(&p, "DigitalSourceType").len(), 2);
        assert_eq!(find(&p, "AIGC"), [r#"{"Label":"1"}"#]);
    }

    #[test]
    fn unescape_numeric_and_broken() {
        assert_eq!(unescape("&#65;&#x42;&quot;"), "AB\"");
        assert_eq!(unescape("a & b &bogus; &#xZZ;"), "a & b &bogus; &#xZZ;");
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "<",
            "<a",
            "<a b=\"",
            "</",
            "<![CDATA[x",
            "<!--",
            "<a>é<b>ü</a>",
            "&#xFFFFFFFF;",
            "<a x='1'/>",
        ] {
            let _ = properties(s);
        }
    }
}
