//! The GB 45438-2025 implicit label ("AIGC" metadata), as TC260's practice
//! guide TC260-PG-20258A puts it into images: an XMP property `AIGC` in the
//! namespace [`TC260_NS`] (prefix [`TC260_PREFIX`]) whose value is a JSON
//! object string with seven fields, in this order:
//!
//! | field | who fills it | meaning |
//! |---|---|---|
//! | `Label` | producer | "1" AI-generated, "2" possibly, "3" suspected |
//! | `ContentProducer` | producer | the generating service (name or code) |
//! | `ProduceID` | producer | the producer's id for this content |
//! | `ReservedCode1` | producer | free (e.g. integrity data) |
//! | `ContentPropagator` | platform | the platform distributing it |
//! | `PropagateID` | platform | the platform's id for this content |
//! | `ReservedCode2` | platform | free |
//!
//! This file is the one place that knows the label's shape: reading its
//! forms (JSON as written, JSON HTML-escaped once more, nested under
//! `AIGC`, an XMP struct), writing the canonical form ([`AigcLabel::to_json`])
//! and judging whether a label is well-formed ([`AigcLabel::problems`]).

use serde::Serialize;

use super::Indicates;

/// The XMP namespace of the `AIGC` property.
pub const TC260_NS: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";
/// The namespace prefix TC260's guide uses.
pub const TC260_PREFIX: &str = "TC260";
/// The property's local name.
pub const AIGC_PROPERTY: &str = "AIGC";
/// The value of `Label` for AI-generated content.
pub const LABEL_AI_GENERATED: &str = "1";

/// The GB 45438-2025 implicit label (`AIGC` metadata field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AigcLabel {
    /// `Label`: "1" AI-generated, "2" possibly, "3" suspected.
    pub label: Option<String>,
    /// `ContentProducer`: the generating service (name or code).
    pub content_producer: Option<String>,
    /// `ProduceID`: the producer's id for this content.
    pub produce_id: Option<String>,
    /// `ReservedCode1`.
    pub reserved_code1: Option<String>,
    /// `ContentPropagator`: the platform that distributed it.
    pub content_propagator: Option<String>,
    /// `PropagateID`: the propagator's id for this content.
    pub propagate_id: Option<String>,
    /// `ReservedCode2`.
    pub reserved_code2: Option<String>,
}

/// The seven field names, in the standard's order.
pub const FIELDS: [&str; 7] = [
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
];

impl AigcLabel {
    /// A producer's label for AI-generated content (`Label` "1").
    pub fn produced(producer: &str, produce_id: &str) -> AigcLabel {
        AigcLabel {
            label: Some(LABEL_AI_GENERATED.into()),
            content_producer: Some(producer.into()),
            produce_id: Some(produce_id.into()),
            ..AigcLabel::default()
        }
    }

    fn slots(&self) -> [&Option<String>; 7] {
        [
            &self.label,
            &self.content_producer,
            &self.produce_id,
            &self.reserved_code1,
            &self.content_propagator,
            &self.propagate_id,
            &self.reserved_code2,
        ]
    }

    /// The canonical form: a flat JSON object with all seven fields, in
    /// the standard's order, missing ones as empty strings.
    pub fn to_json(&self) -> String {
        let body: Vec<String> = FIELDS
            .iter()
            .zip(self.slots())
            .map(|(k, v)| {
                let v = serde_json::Value::String(v.clone().unwrap_or_default());
                format!("\"{k}\":{v}")
            })
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// The label as a JSON value (for the C2PA assertion).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).unwrap_or_default()
    }

    /// Read the label from its JSON form (`{"Label":"1","ContentProducer":...}`),
    /// keys matched case-insensitively, also nested as `{"AIGC": {...}}` and
    /// HTML-escaped once more than XML needs (`{&quot;Label&quot;:...}`
    /// inside the XMP text); `None` when the value is not such an object.
    pub fn from_json(v: &str) -> Option<AigcLabel> {
        let j = parse_json(v).or_else(|| {
            let t = v.trim();
            (t.starts_with('{') && t.contains('&'))
                .then(|| parse_json(&super::xmp::unescape(t)))
                .flatten()
        })?;
        let obj = j.as_object()?;
        // Some writers nest it: {"AIGC": {...}}.
        let obj = match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("AIGC")) {
            Some((_, inner)) => inner.as_object()?,
            None => obj,
        };
        let mut label = AigcLabel::default();
        for (k, v) in obj {
            let v = match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            };
            if let Some(v) = v {
                label.set(k, &v);
            }
        }
        (label != AigcLabel::default()).then_some(label)
    }

    /// Set a field by its GB 45438 name (case-insensitive; for the JSON and
    /// XMP struct forms); false if the name is not one of the seven.
    pub(crate) fn set(&mut self, name: &str, value: &str) -> bool {
        let slot = match name.to_ascii_lowercase().as_str() {
            "label" => &mut self.label,
            "contentproducer" => &mut self.content_producer,
            "produceid" => &mut self.produce_id,
            "reservedcode1" => &mut self.reserved_code1,
            "contentpropagator" => &mut self.content_propagator,
            "propagateid" => &mut self.propagate_id,
            "reservedcode2" => &mut self.reserved_code2,
            _ => return false,
        };
        *slot = Some(value.to_string());
        true
    }

    /// Fill the propagator's fields, keeping the producer's.
    pub fn propagate(&mut self, propagator: &str, propagate_id: &str) {
        self.content_propagator = Some(propagator.into());
        self.propagate_id = Some(propagate_id.into());
    }

    /// Why the label is not well-formed (empty when it is): `Label` must be
    /// "1", "2" or "3"; producer and produce id must be non-empty; a
    /// propagator needs its id and the other way round.
    pub fn problems(&self) -> Vec<String> {
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let mut out = Vec::new();
        match self.label.as_deref().map(str::trim) {
            Some("1" | "2" | "3") => {}
            Some(other) => out.push(format!(
                "Label is {other:?}; it must be \"1\" (AI-generated), \"2\" (possibly) or \"3\" (suspected)"
            )),
            None => out.push("Label is missing".into()),
        }
        if !filled(&self.content_producer) {
            out.push("ContentProducer is empty".into());
        }
        if !filled(&self.produce_id) {
            out.push("ProduceID is empty".into());
        }
        match (filled(&self.content_propagator), filled(&self.propagate_id)) {
            (true, false) => out.push("ContentPropagator is set but PropagateID is empty".into()),
            (false, true) => out.push("PropagateID is set but ContentPropagator is empty".into()),
            _ => {}
        }
        out
    }

    /// A propagating platform has filled its fields.
    pub fn is_propagated(&self) -> bool {
        self.content_propagator
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
    }

    /// What the label claims.
    pub fn indicates(&self) -> Indicates {
        match self.label.as_deref().map(str::trim) {
            Some("1" | "2" | "3") => Indicates::Ai,
            _ => Indicates::Unknown,
        }
    }

    /// One-line summary for reports.
    pub fn summary(&self) -> String {
        let meaning = match self.label.as_deref().map(str::trim) {
            Some("1") => "AI-generated",
            Some("2") => "possibly AI-generated",
            Some("3") => "suspected AI-generated",
            _ => "unrecognised label",
        };
        let mut s = format!("Label={} ({meaning})", self.label.as_deref().unwrap_or("?"));
        for (k, v) in [
            ("ContentProducer", &self.content_producer),
            ("ProduceID", &self.produce_id),
            ("ContentPropagator", &self.content_propagator),
            ("PropagateID", &self.propagate_id),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.push_str(&format!(", {k}={v}"));
            }
        }
        s
    }
}

fn parse_json(v: &str) -> Option<serde_json::Value> {
    let t = v.trim();
    t.starts_with('{')
        .then(|| serde_json::from_str(t).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        let l = AigcLabel::from_json(
            r#"{"Label":"1","ContentProducer":"001191110108MA01KP2T5U00000","ProduceID":"abc"}"#,
        )
        .unwrap();
        assert_eq!(l.label.as_deref(), Some("1"));
        assert_eq!(l.indicates(), Indicates::Ai);
        assert!(l
            .summary()
            .contains("ContentProducer=001191110108MA01KP2T5U00000"));
        let nested = AigcLabel::from_json(r#"{"AIGC":{"label":"2"}}"#).unwrap();
        assert_eq!(nested.label.as_deref(), Some("2"));
        let escaped = AigcLabel::from_json(r#"{&quot;Label&quot;:&quot;3&quot;}"#).unwrap();
        assert_eq!(escaped.label.as_deref(), Some("3"));
        assert_eq!(AigcLabel::from_json(r#"{"other":1}"#), None);
        assert_eq!(AigcLabel::from_json("not json"), None);
        assert_eq!(AigcLabel::from_json("[1,2]"), None);
    }

    #[test]
    fn canonical_json_has_seven_fields_in_order() {
        let mut l = AigcLabel::produced("Example \"AI\"", "urn:c2pa:1");
        assert_eq!(
            l.to_json(),
            r#"{"Label":"1","ContentProducer":"Example \"AI\"","ProduceID":"urn:c2pa:1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#
        );
        assert!(l.problems().is_empty());
        l.propagate("Platform", "p-1");
        let back = AigcLabel::from_json(&l.to_json()).unwrap();
        assert_eq!(back.content_producer.as_deref(), Some("Example \"AI\""));
        assert_eq!(back.propagate_id.as_deref(), Some("p-1"));
        assert!(back.is_propagated());
    }

    #[test]
    fn problems_name_each_fault() {
        let l = AigcLabel::from_json(r#"{"Label":"7","ContentProducer":" ","PropagateID":"x"}"#)
            .unwrap();
        let p = l.problems().join("; ");
        assert!(p.contains("Label is \"7\""), "{p}");
        assert!(p.contains("ContentProducer is empty"), "{p}");
        assert!(p.contains("ProduceID is empty"), "{p}");
        assert!(p.contains("PropagateID is set"), "{p}");
    }
}
