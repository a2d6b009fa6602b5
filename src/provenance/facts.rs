//! Facts read out of a manifest for the report: signer certificate, claim
//! generator, actions and digital source type, author and title, the GB
//! 45438 label, soft bindings, and the ingredient chain (followed through
//! each ingredient's own manifest, depth-limited).
//!
//! Reading never fails: a missing or odd field is simply left out, since
//! manifests come from anyone (cameras, editors, AI services).

use c2pa::status_tracker::LogKind;
use c2pa::validation_results::validation_codes;
use c2pa::{Manifest, Reader};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::aigc::EXPLICIT_LABEL_PARAM;
use super::labels::{self, GB45438_LABEL};
use super::report::{ActionReport, IngredientReport, ManifestReport, SignerReport};
use crate::keys::cert::parse_pem_certs;
use crate::keys::keyfile::raw_key_fingerprint;

/// How deep the ingredient chain is followed.
const MAX_DEPTH: usize = 8;

/// Fill the manifest-derived fields of `r`.
pub fn fill(r: &mut ManifestReport, reader: &Reader, m: &Manifest) {
    r.signer = signer(m);
    r.signed_at = m.time();
    r.generator = generator(m);
    r.title = m.title().map(str::to_string);
    r.author = author(m);
    r.actions = actions(m);
    r.digital_source_type = source_type(&r.actions);
    r.ai_generated = r.digital_source_type.as_deref().is_some_and(labels::is_ai);
    r.gb45438 = assertions(m, |l| l == GB45438_LABEL)
        .next()
        .map(|v| v.get("AIGC").cloned().unwrap_or(v));
    r.soft_bindings = assertions(m, |l| l.starts_with("c2pa.soft-binding")).collect();
    r.ingredients = ingredients(reader, m, 0);
}

/// JSON values of the assertions whose label passes `keep`.
fn assertions<'a>(
    m: &'a Manifest,
    keep: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = Value> + 'a {
    m.assertions()
        .iter()
        .filter(move |a| keep(a.label()))
        .filter_map(|a| a.value().ok().cloned())
}

fn signer(m: &Manifest) -> Option<SignerReport> {
    let info = m.signature_info()?;
    let chain = parse_pem_certs(info.cert_chain()).unwrap_or_default();
    let mut s = SignerReport {
        common_name: info.common_name.clone(),
        issuer: info.issuer.clone().unwrap_or_default(),
        algorithm: info.alg.map(|a| a.to_string()),
        chain_length: chain.len(),
        ..SignerReport::default()
    };
    if let Some(leaf) = chain.first() {
        s.cert_sha256 = Some(hex::encode(Sha256::digest(leaf)));
        if let Ok((_, c)) = x509_parser::parse_x509_certificate(leaf) {
            s.subject = c.subject().to_string();
            s.issuer = c.issuer().to_string();
            s.key_fingerprint = Some(raw_key_fingerprint(
                c.public_key().subject_public_key.data.as_ref(),
            ));
            s.not_before = Some(c.validity().not_before.to_string());
            s.not_after = Some(c.validity().not_after.to_string());
        }
    }
    Some(s)
}

fn generator(m: &Manifest) -> Option<String> {
    if let Some(g) = m.claim_generator().filter(|g| !g.is_empty()) {
        return Some(g.to_string());
    }
    let infos = m.claim_generator_info.as_ref()?;
    let names: Vec<String> = infos
        .iter()
        .map(|i| match &i.version {
            Some(v) => format!("{} {v}", i.name),
            None => i.name.clone(),
        })
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

fn author(m: &Manifest) -> Option<String> {
    let cw = assertions(m, |l| l == "stds.schema-org.CreativeWork").next()?;
    let names: Vec<String> = match cw.get("author")? {
        Value::Array(list) => list.iter().filter_map(person_name).collect(),
        one => person_name(one).into_iter().collect(),
    };
    (!names.is_empty()).then(|| names.join(", "))
}

fn person_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn agent_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let name = o.get("name").and_then(Value::as_str)?;
            Some(match o.get("version").and_then(Value::as_str) {
                Some(ver) => format!("{name} {ver}"),
                None => name.to_string(),
            })
        }
        _ => None,
    }
}

fn actions(m: &Manifest) -> Vec<ActionReport> {
    let mut out = Vec::new();
    for a in assertions(m, |l| l.starts_with("c2pa.actions")) {
        let Some(list) = a.get("actions").and_then(Value::as_array) else {
            continue;
        };
        for act in list {
            out.push(ActionReport {
                action: act
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                digital_source_type: act
                    .get("digitalSourceType")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                software_agent: act.get("softwareAgent").and_then(agent_name),
                when: act.get("when").and_then(Value::as_str).map(str::to_string),
                description: act
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                explicit_label: act
                    .get("parameters")
                    .and_then(|p| p.get(EXPLICIT_LABEL_PARAM))
                    .cloned(),
            });
        }
    }
    out
}

/// The source type of the creating/editing action, else of any action.
fn source_type(actions: &[ActionReport]) -> Option<String> {
    let primary = ["c2pa.created", "c2pa.edited", "c2pa.opened"];
    actions
        .iter()
        .filter(|a| primary.contains(&a.action.as_str()))
        .chain(actions.iter())
        .find_map(|a| a.digital_source_type.clone())
}

/// Validation failures recorded for an ingredient: the v3 results and the
/// v1/v2 status list together (older manifests, e.g. the 2022 Adobe test
/// files, record only the list, and the SDK may still hand back empty v3
/// results beside it), each code once; informational codes (e.g. an
/// ingredient's `timeStamp.mismatch`) are not failures.
/// `signingCredential.untrusted` is left out: it was recorded at signing
/// time against the signer's own trust list and, like C2PA's validity rule
/// says, is not a defect of the ingredient.
fn ingredient_failures(ing: &c2pa::Ingredient) -> Vec<String> {
    let v3: Vec<String> = ing
        .validation_results()
        .and_then(|v| v.active_manifest())
        .map(|c| c.failure().iter().map(|s| s.code().to_string()).collect())
        .unwrap_or_default();
    let listed = ing
        .validation_status()
        .unwrap_or_default()
        .iter()
        // A recorded status carries only its code (the SDK reads every one
        // back as a success), so the SDK's code table says which failed.
        .filter(|s| matches!(validation_codes::log_kind(s.code()), LogKind::Failure))
        .map(|s| s.code().to_string());
    let mut codes: Vec<String> = Vec::new();
    for code in v3.into_iter().chain(listed) {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
        .into_iter()
        .filter(|code| code != "signingCredential.untrusted")
        .collect()
}

fn ingredients(reader: &Reader, m: &Manifest, depth: usize) -> Vec<IngredientReport> {
    m.ingredients()
        .iter()
        .map(|ing| {
            let mut r = IngredientReport {
                title: ing.title().map(str::to_string),
                relationship: serde_json::to_value(ing.relationship())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                format: ing.format().map(str::to_string),
                manifest: ing.active_manifest().map(str::to_string),
                failures: ingredient_failures(ing),
                ..IngredientReport::default()
            };
            if let Some(sub) = ing.active_manifest().and_then(|l| reader.get_manifest(l)) {
                r.signer = sub
                    .signature_info()
                    .and_then(|s| s.common_name.clone().or(s.issuer.clone()));
                r.generator = generator(sub);
                let acts = actions(sub);
                r.digital_source_type = source_type(&acts);
                r.explicit_labels = acts.into_iter().filter_map(|a| a.explicit_label).collect();
                if depth + 1 < MAX_DEPTH {
                    r.ingredients = ingredients(reader, sub, depth + 1);
                }
            }
            r
        })
        .collect()
}
