//! Signing: build a C2PA manifest for an image and bind it to the image's
//! exact bytes with an Ed25519 signature.
//!
//! What goes into the manifest (C2PA 2.x claim):
//! - `c2pa.actions`: `c2pa.created` with the IPTC `digitalSourceType` for a
//!   new image; with a parent, `c2pa.opened` (the parent) then `c2pa.edited`
//!   carrying the source type; `c2pa.placed` for each further ingredient.
//!   Each action says when and with what software.
//! - `stds.schema-org.CreativeWork` with author and title, when given.
//! - [`super::labels::GB45438_LABEL`]: the GB 45438-2025 AIGC label, when asked
//!   (also written into the file's XMP before signing, with the IPTC
//!   source type; a visible label is drawn first and recorded as a
//!   `c2pa.edited` action: see [`super::aigc`]).
//! - ingredients, each with its own manifest kept (so a chain of edits
//!   verifies end to end). A file that already carries a manifest becomes an
//!   ingredient of the new one instead of losing its history.
//! - `c2pa.hash.data`, the hard binding (added by the SDK).
//!
//! No thumbnail unless asked: it costs ten times the signing time and
//! 135-325 KB per file.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use c2pa::{Builder, Context};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::labels::{self, SOURCE_TYPE_EMPTY};
use super::{aigc, signer};
use crate::atomic::{refuse_same_file, write_atomic, Overwrite};
use crate::error::{Error, Result};
use crate::media::container::{self, Structure};
use crate::media::decode::check_dimensions;
use crate::media::{read_file, Format, Limits};

/// The generator name recorded in manifests.
pub const GENERATOR: &str = "hallmark";

/// What to sign with and what to say.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// `NAME.key` from `keygen` (Ed25519 PKCS#8 PEM).
    pub key: PathBuf,
    /// Certificate chain, leaf first (default: the `.crt` beside the key).
    pub cert: Option<PathBuf>,
    /// IPTC digital source type: a term (`trainedAlgorithmicMedia`) or its
    /// URL. `None` records C2PA's "not stated".
    pub source_type: Option<String>,
    /// Creator name.
    pub author: Option<String>,
    /// Title (default: the input's file name).
    pub title: Option<String>,
    /// Assets this image was made from: the first is the parent, the rest
    /// are placed components.
    pub parents: Vec<PathBuf>,
    /// Write the manifest to `OUT.c2pa` and leave the image bytes unchanged.
    pub sidecar: bool,
    /// Add the GB 45438-2025 AIGC label with this producer name (to the
    /// file's XMP and the manifest; see [`super::aigc`]).
    pub gb45438_producer: Option<String>,
    /// The label's `ProduceID` (default: the manifest id).
    pub gb45438_produce_id: Option<String>,
    /// Fill the propagator fields of the file's GB 45438 label (or of the
    /// one `gb45438_producer` makes).
    pub gb45438_propagation: Option<super::aigc::Propagation>,
    /// Write the implicit labels (GB 45438 `TC260:AIGC`, and
    /// `Iptc4xmpExt:DigitalSourceType` when a source type is given) into
    /// the file's XMP before signing (default true).
    pub write_xmp: bool,
    /// Draw this visible label on the image before signing.
    pub visible_label: Option<crate::label::VisibleLabel>,
    /// Add a JPEG thumbnail of the image to the manifest.
    pub thumbnail: bool,
    /// Replace an existing output.
    pub overwrite: Overwrite,
    /// Input limits.
    pub limits: Limits,
    /// The manifest id to use (`urn:c2pa:UUID`); a fresh one when `None`.
    /// Durable credentials choose it first to put it in the watermark.
    pub manifest_id: Option<String>,
    /// Further assertions `(label, JSON)` to sign (e.g. `c2pa.soft-binding`).
    pub extra_assertions: Vec<(String, Value)>,
}

impl SignOptions {
    /// Options for signing with `key`, everything else default.
    pub fn new(key: impl Into<PathBuf>) -> Self {
        SignOptions {
            key: key.into(),
            cert: None,
            source_type: None,
            author: None,
            title: None,
            parents: Vec::new(),
            sidecar: false,
            gb45438_producer: None,
            gb45438_produce_id: None,
            gb45438_propagation: None,
            write_xmp: true,
            visible_label: None,
            thumbnail: false,
            overwrite: Overwrite::Refuse,
            limits: Limits::default(),
            manifest_id: None,
            extra_assertions: Vec::new(),
        }
    }
}

/// A signed asset in memory.
#[derive(Debug, Clone)]
pub struct SignedBytes {
    /// The image bytes (with the manifest embedded, or unchanged for a sidecar).
    pub asset: Vec<u8>,
    /// The manifest store (JUMBF) bytes.
    pub manifest: Vec<u8>,
    /// The manifest id (`urn:c2pa:UUID`).
    pub manifest_id: String,
    /// The image format.
    pub format: Format,
    /// Subject of the signing certificate.
    pub signer: String,
    /// Number of ingredients recorded.
    pub ingredients: usize,
    /// The AI labels written (see [`LabelsWritten`]).
    pub labels: LabelsWritten,
}

/// The AI labels a signing wrote besides the manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelsWritten {
    /// The GB 45438 label, when one was asked for.
    pub gb45438: Option<crate::media::metadata::AigcLabel>,
    /// Whether the implicit labels went into the file's XMP.
    pub xmp: bool,
    /// The visible label drawn, when one was asked for.
    pub visible: Option<crate::label::Placement>,
    /// What could not be done (e.g. XMP with `--sidecar`).
    pub notes: Vec<String>,
}

/// What [`sign`] wrote.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The signed image.
    pub output: PathBuf,
    /// The sidecar manifest, when asked for.
    pub sidecar: Option<PathBuf>,
    /// The manifest id (`urn:c2pa:UUID`).
    pub manifest_id: String,
    /// Size of the manifest store in bytes.
    pub manifest_bytes: usize,
    /// Subject of the signing certificate.
    pub signer: String,
    /// Number of ingredients recorded.
    pub ingredients: usize,
    /// The AI labels written.
    pub labels: LabelsWritten,
}

pub use super::sidecar::sidecar_path;

/// Walk a file to be signed (or used as an ingredient): it must be whole,
/// of a format hallmark signs, and within the limits.
fn walk_signable(bytes: &[u8], limits: &Limits) -> Result<Structure> {
    let s = container::walk(bytes)?;
    if let Some(d) = &s.damage {
        return Err(d.to_error());
    }
    if !s.format.can_sign() {
        return Err(Error::Unsupported(format!(
            "{} files cannot be signed here (JPEG, PNG, WebP and TIFF can)",
            s.format.mime()
        )));
    }
    let (w, h) = s
        .dimensions
        .ok_or_else(|| Error::Decode(format!("{}: no image header", s.format.mime())))?;
    check_dimensions(w, h, limits)?;
    Ok(s)
}

/// A fresh random manifest id, `urn:c2pa:` and a version-4 UUID.
pub fn new_manifest_id() -> String {
    let mut b = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:c2pa:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Sign `input` into `output` (atomically; the input is never modified).
pub fn sign(input: &Path, output: &Path, opts: &SignOptions) -> Result<Signed> {
    sign_prepared(input, output, opts, |_| Ok(None))
}

/// [`sign`], with the input's bytes passed through `prepare`, which
/// returns new bytes to sign (e.g. with a watermark embedded) or `None` to
/// sign them as read. A visible label (`opts.visible_label`) is drawn
/// before `prepare`. New bytes lose any manifest the input carried, so
/// such an input is recorded as the parent ingredient and its history kept.
pub fn sign_prepared(
    input: &Path,
    output: &Path,
    opts: &SignOptions,
    prepare: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>>,
) -> Result<Signed> {
    sign_prepared_then(input, output, opts, prepare, |_| Ok(()))
}

/// [`sign_prepared`], calling `before_write` with the signed bytes before
/// anything is written: if it fails, no output appears (durable
/// credentials record the manifest in a registry there, so that no signed
/// file exists whose manifest the registry lacks).
pub fn sign_prepared_then(
    input: &Path,
    output: &Path,
    opts: &SignOptions,
    prepare: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>>,
    before_write: impl FnOnce(&SignedBytes) -> Result<()>,
) -> Result<Signed> {
    refuse_same_file(input, output)?;
    let sidecar = opts.sidecar.then(|| sidecar_path(output));
    if opts.overwrite == Overwrite::Refuse {
        for p in std::iter::once(output).chain(sidecar.as_deref()) {
            if p.exists() {
                return Err(Error::AlreadyExists(p.to_path_buf()));
            }
        }
    }
    let read = read_file(input, &opts.limits)?;
    // The visible label goes on first, so a watermark (`prepare`) covers it.
    let (labelled, placement) = aigc::visible(&read, opts)?.unzip();
    let prepared = prepare(labelled.as_deref().unwrap_or(&read))?;
    let changed = prepared.is_some() || labelled.is_some();
    let mut with_parent = None;
    if changed && walk_signable(&read, &opts.limits)?.has_manifest() {
        let mut o = opts.clone();
        o.parents.insert(0, input.to_path_buf());
        with_parent = Some(o);
    }
    let bytes = prepared.or(labelled).unwrap_or(read);
    let opts = with_parent.as_ref().unwrap_or(opts);
    let title = opts
        .title
        .clone()
        .or_else(|| input.file_name().map(|n| n.to_string_lossy().into_owned()));
    let signed = sign_inner(&bytes, title.as_deref(), opts, placement)?;
    before_write(&signed)?;
    if let Some(sc) = &sidecar {
        write_atomic(sc, &signed.manifest, opts.overwrite)?;
        if let Err(e) = write_atomic(output, &signed.asset, opts.overwrite) {
            let _ = std::fs::remove_file(sc);
            return Err(e);
        }
    } else {
        write_atomic(output, &signed.asset, opts.overwrite)?;
    }
    Ok(Signed {
        output: output.to_path_buf(),
        sidecar,
        manifest_id: signed.manifest_id,
        manifest_bytes: signed.manifest.len(),
        signer: signed.signer,
        ingredients: signed.ingredients,
        labels: signed.labels,
    })
}

fn c2pa_err(what: &str) -> impl Fn(c2pa::Error) -> Error + '_ {
    move |e| Error::C2pa(format!("{what}: {e}"))
}

/// Sign image bytes in memory. `title` names the asset in the manifest
/// when `opts.title` does not. A visible label is drawn first when asked
/// (a signed input then becomes the parent ingredient).
pub fn sign_bytes(bytes: &[u8], title: Option<&str>, opts: &SignOptions) -> Result<SignedBytes> {
    let Some((labelled, placement)) = aigc::visible(bytes, opts)? else {
        return sign_inner(bytes, title, opts, None);
    };
    let layout = walk_signable(bytes, &opts.limits)?;
    if !layout.has_manifest() {
        return sign_inner(&labelled, title, opts, Some(placement));
    }
    // The signed original becomes the parent: hand it over as a file.
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let original = dir
        .path()
        .join(format!("input.{}", layout.format.extension()));
    std::fs::write(&original, bytes).map_err(|e| Error::io(&original, e))?;
    let mut o = opts.clone();
    o.parents.insert(0, original);
    sign_inner(&labelled, title.or(Some("input")), &o, Some(placement))
}

/// Sign `bytes` (already carrying any visible label, described by
/// `visible`): write the implicit labels, build the manifest, sign.
fn sign_inner(
    bytes: &[u8],
    title: Option<&str>,
    opts: &SignOptions,
    visible: Option<crate::label::Placement>,
) -> Result<SignedBytes> {
    let title = opts.title.as_deref().or(title);
    let layout = walk_signable(bytes, &opts.limits)?;
    let mime = layout.format.mime();
    let creds = signer::load(&opts.key, opts.cert.as_deref())?;
    let source_type = opts
        .source_type
        .as_deref()
        .map(labels::source_type_url)
        .transpose()?;
    let manifest_id = opts.manifest_id.clone().unwrap_or_else(new_manifest_id);
    let implicit = aigc::implicit(bytes, &layout, opts, source_type.as_deref(), &manifest_id)?;
    // The bytes that get signed; `bytes` stays the input (an ingredient
    // when it carries a manifest).
    let asset_bytes = implicit.bytes.as_deref().unwrap_or(bytes);

    let context = Context::new();
    let mut definition = json!({
        "claim_generator_info": [{ "name": GENERATOR, "version": env!("CARGO_PKG_VERSION") }],
        "label": manifest_id,
        "format": mime,
    });
    if let Some(t) = title {
        definition["title"] = json!(t);
    }
    let mut builder = Builder::from_context(context)
        .with_definition(definition)
        .map_err(c2pa_err("bad manifest definition"))?;

    // Ingredients: --parent files first, then the input itself when it
    // already carries a manifest (its history is kept, not dropped).
    let mut ingredient_ids: Vec<(String, bool)> = Vec::new(); // (id, is parent)
    for (i, path) in opts.parents.iter().enumerate() {
        let pbytes = read_file(path, &opts.limits)?;
        let pl = walk_signable(&pbytes, &opts.limits)
            .map_err(|e| Error::InvalidInput(format!("parent {}: {e}", path.display())))?;
        let id = format!("ingredient-{i}");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        add_ingredient(&mut builder, &id, &name, i == 0, pl.format, &pbytes)?;
        ingredient_ids.push((id, i == 0));
    }
    let resigned = layout.has_manifest();
    if resigned {
        let id = "ingredient-input".to_string();
        let is_parent = opts.parents.is_empty();
        add_ingredient(
            &mut builder,
            &id,
            title.unwrap_or("input"),
            is_parent,
            layout.format,
            bytes,
        )?;
        ingredient_ids.push((id, is_parent));
    }

    let mut actions = actions(
        source_type.as_deref(),
        &ingredient_ids,
        !opts.parents.is_empty() || (resigned && implicit.bytes.is_some()),
    );
    if let Some(p) = &visible {
        actions.push(aigc::visible_label_action(p, &creds.subject));
    }
    builder
        .add_assertion("c2pa.actions", &json!({ "actions": actions }))
        .map_err(c2pa_err("cannot add actions"))?;
    if opts.author.is_some() || opts.title.is_some() {
        let mut cw = json!({ "@context": "https://schema.org", "@type": "CreativeWork" });
        if let Some(a) = &opts.author {
            cw["author"] = json!([{ "@type": "Person", "name": a }]);
        }
        if let Some(t) = &opts.title {
            cw["name"] = json!(t);
        }
        builder
            .add_assertion_json("stds.schema-org.CreativeWork", &cw)
            .map_err(c2pa_err("cannot add author/title"))?;
    }
    if let Some(label) = &implicit.label {
        builder
            .add_assertion_json(labels::GB45438_LABEL, &labels::gb45438_aigc(label))
            .map_err(c2pa_err("cannot add the GB 45438 label"))?;
    }
    for (label, value) in &opts.extra_assertions {
        builder
            .add_assertion_json(label.as_str(), value)
            .map_err(c2pa_err("cannot add assertion"))?;
    }
    if opts.thumbnail {
        let thumb = thumbnail(asset_bytes, &opts.limits)?;
        builder
            .set_thumbnail("image/jpeg", &mut Cursor::new(thumb))
            .map_err(c2pa_err("cannot add thumbnail"))?;
    }
    builder.set_no_embed(opts.sidecar);

    let mut source = Cursor::new(asset_bytes);
    let mut dest = Cursor::new(Vec::with_capacity(asset_bytes.len() + 64 * 1024));
    let manifest = builder
        .sign(creds.signer.as_ref(), mime, &mut source, &mut dest)
        .map_err(c2pa_err("signing failed"))?;
    let asset = if opts.sidecar {
        asset_bytes.to_vec()
    } else {
        dest.into_inner()
    };
    let labels = LabelsWritten {
        xmp: implicit.bytes.is_some()
            || (implicit.label.is_some() && !opts.sidecar && opts.write_xmp),
        gb45438: implicit.label,
        visible,
        notes: implicit.notes,
    };
    Ok(SignedBytes {
        asset,
        manifest,
        manifest_id,
        format: layout.format,
        signer: creds.subject,
        ingredients: ingredient_ids.len(),
        labels,
    })
}

fn add_ingredient(
    builder: &mut Builder,
    id: &str,
    title: &str,
    parent: bool,
    format: Format,
    bytes: &[u8],
) -> Result<()> {
    let def = json!({
        "title": title,
        "label": id,
        "relationship": if parent { "parentOf" } else { "componentOf" },
    });
    builder
        .add_ingredient_from_stream(def.to_string(), format.mime(), &mut Cursor::new(bytes))
        .map_err(c2pa_err("cannot read ingredient"))?;
    Ok(())
}

/// RFC 3339 UTC timestamp, seconds precision.
pub(crate) fn now_rfc3339() -> String {
    let t = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The `c2pa.actions` list. `edited` says the parent came from `--parent`
/// (the pixels changed) rather than being the re-signed input itself.
fn actions(source_type: Option<&str>, ingredients: &[(String, bool)], edited: bool) -> Vec<Value> {
    let when = now_rfc3339();
    let agent = json!({ "name": GENERATOR, "version": env!("CARGO_PKG_VERSION") });
    let mut out = Vec::new();
    let parent = ingredients
        .iter()
        .find(|(_, p)| *p)
        .map(|(id, _)| id.clone());
    match parent {
        None => out.push(json!({
            "action": "c2pa.created",
            "digitalSourceType": source_type.unwrap_or(SOURCE_TYPE_EMPTY),
            "when": when,
            "softwareAgent": agent,
        })),
        Some(pid) => {
            let mut opened = json!({
                "action": "c2pa.opened",
                "when": when,
                "softwareAgent": agent,
                "parameters": { "ingredientIds": [pid] },
            });
            if edited {
                out.push(opened);
                let mut e =
                    json!({ "action": "c2pa.edited", "when": when, "softwareAgent": agent });
                if let Some(st) = source_type {
                    e["digitalSourceType"] = json!(st);
                }
                out.push(e);
            } else {
                if let Some(st) = source_type {
                    opened["digitalSourceType"] = json!(st);
                }
                out.push(opened);
            }
        }
    }
    for (id, _) in ingredients.iter().filter(|(_, p)| !*p) {
        out.push(json!({
            "action": "c2pa.placed",
            "when": when,
            "softwareAgent": agent,
            "parameters": { "ingredientIds": [id] },
        }));
    }
    out
}

/// A JPEG thumbnail, long edge 512 px.
fn thumbnail(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let img = crate::media::decode(bytes, limits)?;
    let small = img.thumbnail(512, 512).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Decode(format!("cannot encode thumbnail: {e}")))?;
    Ok(out.into_inner())
}
