//! What traces mean: the IPTC DigitalSourceType vocabulary, generator text
//! chunks (AUTOMATIC1111/Forge, ComfyUI, NovelAI, InvokeAI, Fooocus,
//! Midjourney), software names of generators and editors. The GB
//! 45438-2025 `AIGC` label has its own file, `aigc.rs`.
//!
//! Everything here is a claim written by whoever made the file: it can be
//! stripped or forged, so findings say what a field *indicates*, not what
//! is true.

use super::Indicates;
use crate::media::source_type::{self, Origin};

/// The IPTC DigitalSourceType term of a value (the last segment of its
/// URL, or a bare term) and what it indicates, from the one vocabulary table
/// ([`crate::media::source_type`]).
pub(crate) fn digital_source_type(value: &str) -> (String, Indicates) {
    let code = source_type::term_of(value).to_string();
    let indicates = match source_type::origin(value) {
        Some(Origin::AiGenerated) => Indicates::Ai,
        Some(Origin::AiEdited) => Indicates::AiEdited,
        Some(Origin::Capture) => Indicates::Capture,
        Some(Origin::Edited) => Indicates::Edited,
        // Software-made (digital art, charts, screenshots), unknown terms.
        _ => Indicates::Unknown,
    };
    (code, indicates)
}

/// Known software names: (substring, lower-case match) -> (indicates, name).
const SOFTWARE: &[(&str, Indicates, &str)] = &[
    ("novelai", Indicates::Ai, "NovelAI"),
    ("midjourney", Indicates::Ai, "Midjourney"),
    ("dall-e", Indicates::Ai, "DALL-E (OpenAI)"),
    ("dall·e", Indicates::Ai, "DALL-E (OpenAI)"),
    ("chatgpt", Indicates::Ai, "ChatGPT (OpenAI)"),
    ("stable diffusion", Indicates::Ai, "Stable Diffusion"),
    ("comfyui", Indicates::Ai, "ComfyUI"),
    (
        "automatic1111",
        Indicates::Ai,
        "Stable Diffusion web UI (AUTOMATIC1111)",
    ),
    ("invokeai", Indicates::Ai, "InvokeAI"),
    ("fooocus", Indicates::Ai, "Fooocus"),
    ("draw things", Indicates::Ai, "Draw Things"),
    ("firefly", Indicates::Ai, "Adobe Firefly"),
    ("imagen", Indicates::Ai, "Google Imagen"),
    ("made with google ai", Indicates::Ai, "Google AI"),
    ("leonardo.ai", Indicates::Ai, "Leonardo.Ai"),
    ("ideogram", Indicates::Ai, "Ideogram"),
    ("dreamstudio", Indicates::Ai, "DreamStudio (Stability AI)"),
    ("nightcafe", Indicates::Ai, "NightCafe"),
    ("craiyon", Indicates::Ai, "Craiyon"),
    ("bing image creator", Indicates::Ai, "Bing Image Creator"),
    ("adobe photoshop", Indicates::Edited, "Adobe Photoshop"),
    ("lightroom", Indicates::Edited, "Adobe Lightroom"),
    ("gimp", Indicates::Edited, "GIMP"),
    ("affinity", Indicates::Edited, "Affinity"),
    ("pixelmator", Indicates::Edited, "Pixelmator"),
    ("snapseed", Indicates::Edited, "Snapseed"),
    ("capture one", Indicates::Edited, "Capture One"),
    ("darktable", Indicates::Edited, "darktable"),
    ("rawtherapee", Indicates::Edited, "RawTherapee"),
    ("picsart", Indicates::Edited, "Picsart"),
    ("canva", Indicates::Edited, "Canva"),
    ("paint.net", Indicates::Edited, "Paint.NET"),
    ("krita", Indicates::Edited, "Krita"),
];

/// Classify a software / creator-tool string.
pub(crate) fn software(value: &str) -> Option<(Indicates, &'static str)> {
    let lower = value.to_lowercase();
    SOFTWARE
        .iter()
        .find(|(needle, _, _)| lower.contains(needle))
        .map(|(_, ind, name)| (*ind, *name))
}

/// AUTOMATIC1111-style generation parameters ("Steps: 20, Sampler: ...,
/// CFG scale: 7, Seed: ...").
pub(crate) fn is_a1111_parameters(v: &str) -> bool {
    let hits = [
        "Steps: ",
        "Sampler: ",
        "CFG scale: ",
        "Seed: ",
        "Size: ",
        "Model hash: ",
    ]
    .iter()
    .filter(|k| v.contains(*k))
    .count();
    hits >= 3
}

/// Which web UI wrote an A1111-style `parameters` text.
pub(crate) fn a1111_flavour(v: &str) -> &'static str {
    if let Some(i) = v.find("Version: ") {
        let version = v.get(i + 9..).unwrap_or_default();
        if version.starts_with('f') {
            return "Stable Diffusion WebUI Forge";
        }
        if version.starts_with("neo") {
            return "Stable Diffusion WebUI Forge (neo)";
        }
    }
    if v.contains("Fooocus") {
        return "Fooocus";
    }
    "Stable Diffusion web UI (AUTOMATIC1111-compatible)"
}

fn json(v: &str) -> Option<serde_json::Value> {
    let t = v.trim();
    (t.starts_with('{') || t.starts_with('['))
        .then(|| serde_json::from_str(t).ok())
        .flatten()
}

/// What a PNG text chunk (or similar key/value pair) says about its maker.
/// `software` is the file's `Software` text, if any (NovelAI's marker).
pub(crate) fn text_chunk(
    key: &str,
    value: &str,
    software: Option<&str>,
) -> Option<(Indicates, String)> {
    let novelai = software.is_some_and(|s| s.to_lowercase().contains("novelai"));
    let ai = |g: &str| Some((Indicates::Ai, g.to_string()));
    match key {
        "parameters" if value.contains("\"Fooocus") || value.contains("fooocus") => ai("Fooocus"),
        "parameters" if is_a1111_parameters(value) => ai(a1111_flavour(value)),
        "parameters" if json(value).is_some() => ai("Stable Diffusion front end (JSON parameters)"),
        "prompt" if json(value).is_some_and(|j| comfy_graph(&j)) => ai("ComfyUI"),
        "workflow" if json(value).is_some_and(|j| j.get("nodes").is_some()) => ai("ComfyUI"),
        "invokeai_metadata" | "invokeai_graph" | "invokeai_workflow" | "sd-metadata" | "Dream" => {
            ai("InvokeAI")
        }
        "fooocus_scheme" => ai("Fooocus"),
        "generation_data" => ai("AI image service (generation_data)"),
        "Software" | "Source" | "Title" | "Comment" if novelai => ai("NovelAI"),
        "Comment"
            if json(value).is_some_and(|j| {
                j.get("steps").is_some() && (j.get("sampler").is_some() || j.get("uc").is_some())
            }) =>
        {
            ai("NovelAI")
        }
        "Description" | "Comment" if value.contains("Job ID:") => ai("Midjourney"),
        "Software" | "Source" | "CreatorTool" => software_claim(value),
        _ if is_a1111_parameters(value) => ai(a1111_flavour(value)),
        _ => None,
    }
}

fn software_claim(value: &str) -> Option<(Indicates, String)> {
    software(value).map(|(i, g)| (i, g.to_string()))
}

/// A ComfyUI API graph: `{"3": {"class_type": "KSampler", "inputs": ...}}`.
fn comfy_graph(j: &serde_json::Value) -> bool {
    j.as_object()
        .is_some_and(|o| o.values().any(|n| n.get("class_type").is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptc_vocabulary() {
        let base = "http://cv.iptc.org/newscodes/digitalsourcetype/";
        assert_eq!(
            digital_source_type(&format!("{base}trainedAlgorithmicMedia")).1,
            Indicates::Ai
        );
        assert_eq!(
            digital_source_type(&format!("{base}compositeWithTrainedAlgorithmicMedia")).1,
            Indicates::AiEdited
        );
        assert_eq!(
            digital_source_type(&format!("{base}digitalCapture")).1,
            Indicates::Capture
        );
        assert_eq!(digital_source_type("humanEdits").1, Indicates::Edited);
        assert_eq!(
            digital_source_type(&format!("{base}digitalArt")),
            ("digitalArt".into(), Indicates::Unknown)
        );
    }

    #[test]
    fn a1111_and_forge() {
        let p = "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Version: f2.0.1v1.10.1";
        assert_eq!(
            text_chunk("parameters", p, None).unwrap().1,
            "Stable Diffusion WebUI Forge"
        );
        let p = "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Version: v1.10.1";
        assert!(text_chunk("parameters", p, None)
            .unwrap()
            .1
            .contains("AUTOMATIC1111"));
        assert_eq!(text_chunk("parameters", "just words", None), None);
    }
}
