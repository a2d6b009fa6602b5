//! ONNX Runtime sessions: a small pool per model, and the implementation of
//! [`Classifier`] for pixel models.
//!
//! A session is created from the verified model bytes and checked against
//! the card (input and output names, element types, fixed dimensions).
//! `ort` sessions run with `&mut self`, so each model keeps a [`SessionPool`]:
//! a thread takes a session, runs it, and puts it back; when all are busy a
//! new one is made from the same bytes. One thread scoring many files
//! reuses one session, so memory grows with the number of threads scoring
//! at once (the batch scanner's workers), never with the number of files.

use std::sync::{Mutex, PoisonError};

use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::card::ModelCard;
use super::grid::CropBatch;
use super::runtime::OrtRuntime;
use super::Classifier;
use crate::error::{Error, Result};

/// Most crops fed to the network in one run.
const MAX_BATCH: usize = 64;

/// Session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// ONNX Runtime intra-op threads per session. 1 is fastest on small
    /// machines and when files are scored in parallel.
    pub intra_threads: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { intra_threads: 1 }
    }
}

/// Sessions of one model, made on demand from its verified bytes.
pub struct SessionPool {
    runtime: &'static OrtRuntime,
    model: Vec<u8>,
    config: SessionConfig,
    pool: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool")
            .field("library", &self.runtime.library())
            .field("model_bytes", &self.model.len())
            .finish_non_exhaustive()
    }
}

impl SessionPool {
    /// Make the first session (so a model ONNX Runtime refuses fails here).
    pub fn new(
        runtime: &'static OrtRuntime,
        model: Vec<u8>,
        config: SessionConfig,
    ) -> Result<Self> {
        let first = new_session(runtime, &model, config)?;
        Ok(SessionPool {
            runtime,
            model,
            config,
            pool: Mutex::new(vec![first]),
        })
    }

    /// Run `f` with a session of this pool (an idle one, or a new one).
    pub fn with_session<R>(&self, f: impl FnOnce(&mut Session) -> Result<R>) -> Result<R> {
        let idle = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut session = match idle {
            Some(s) => s,
            None => new_session(self.runtime, &self.model, self.config)?,
        };
        let out = f(&mut session);
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        out
    }

    /// Feed one float32 tensor and read one float32 output: its shape and values.
    pub fn run(
        &self,
        input: &str,
        shape: &[i64],
        data: &[f32],
        output: &str,
    ) -> Result<(Vec<i64>, Vec<f32>)> {
        let mut out = self.run_outputs(input, shape, data, &[output])?;
        out.pop()
            .ok_or_else(|| Error::Runtime(format!("the model produced no output {output:?}")))
    }

    /// Feed one float32 tensor and read several float32 outputs, in order.
    pub fn run_outputs(
        &self,
        input: &str,
        shape: &[i64],
        data: &[f32],
        outputs: &[&str],
    ) -> Result<Vec<(Vec<i64>, Vec<f32>)>> {
        self.with_session(|session| {
            let tensor = TensorRef::from_array_view((shape.to_vec(), data))
                .map_err(rt_err("input tensor"))?;
            let values = session
                .run(ort::inputs![input => tensor])
                .map_err(rt_err("inference"))?;
            outputs
                .iter()
                .map(|name| {
                    let value = values.get(name).ok_or_else(|| {
                        Error::Runtime(format!("the model produced no output {name:?}"))
                    })?;
                    let (shape, v) = value
                        .try_extract_tensor::<f32>()
                        .map_err(rt_err("output"))?;
                    Ok((shape.iter().copied().collect(), v.to_vec()))
                })
                .collect()
        })
    }

    /// Check that `name` is a float32 tensor input (or output) and return
    /// its dimensions (negative = dynamic).
    pub fn float_io(&self, name: &str, input: bool) -> Result<Vec<i64>> {
        self.with_session(|s| {
            let (kind, list) = if input {
                ("input", s.inputs())
            } else {
                ("output", s.outputs())
            };
            let outlet = list.iter().find(|i| i.name() == name).ok_or_else(|| {
                Error::Model(format!(
                    "{kind} {name:?} is not in the model ({kind}s: {})",
                    names(list)
                ))
            })?;
            let (ty, shape) = dims(outlet.dtype())
                .ok_or_else(|| Error::Model(format!("{kind} {name:?} is not a tensor")))?;
            if ty != TensorElementType::Float32 {
                return Err(Error::Model(format!(
                    "{kind} {name:?} is {ty:?}, not float32"
                )));
            }
            Ok(shape)
        })
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> Result<usize> {
        self.with_session(|s| Ok(s.inputs().len()))
    }
}

fn names(o: &[ort::value::Outlet]) -> String {
    o.iter()
        .map(|i| i.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A classifier backed by an ONNX Runtime session pool.
pub struct OrtClassifier {
    pool: SessionPool,
    input: String,
    output: String,
    batch_one: bool,
}

impl std::fmt::Debug for OrtClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtClassifier")
            .field("pool", &self.pool)
            .field("input", &self.input)
            .field("output", &self.output)
            .field("batch_one", &self.batch_one)
            .finish_non_exhaustive()
    }
}

fn rt_err(what: &str) -> impl Fn(ort::Error) -> Error + '_ {
    move |e| Error::Runtime(format!("{what}: {e}"))
}

fn new_session(runtime: &OrtRuntime, model: &[u8], config: SessionConfig) -> Result<Session> {
    let threads = config.intra_threads.max(1);
    let builder = Session::builder(runtime.environment()).map_err(rt_err("session options"))?;
    let builder = builder
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| Error::Runtime(format!("session options: {e}")))?
        .with_intra_threads(threads)
        .map_err(|e| Error::Runtime(format!("session options: {e}")))?
        .with_inter_threads(1)
        .map_err(|e| Error::Runtime(format!("session options: {e}")))?
        .with_intra_op_spinning(false)
        .map_err(|e| Error::Runtime(format!("session options: {e}")))?;
    let mut builder = builder;
    builder
        .commit_from_memory(model)
        .map_err(|e| Error::Model(format!("ONNX Runtime cannot load the model: {e}")))
}

fn dims(t: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    Some((
        t.tensor_type()?,
        t.tensor_shape()?.iter().copied().collect(),
    ))
}

impl OrtClassifier {
    /// Create a session from verified model bytes and check it against `card`.
    pub fn new(
        runtime: &'static OrtRuntime,
        model: Vec<u8>,
        card: &ModelCard,
        config: SessionConfig,
    ) -> Result<Self> {
        let pool = SessionPool::new(runtime, model, config)?;
        let s = i64::from(card.crop.size);
        let n_inputs = pool.input_count()?;
        if n_inputs != 1 {
            let all = pool.with_session(|s| Ok(names(s.inputs())))?;
            return Err(Error::Model(format!(
                "the model has {n_inputs} inputs ({all}); hallmark feeds exactly one"
            )));
        }
        let name = &card.input.name;
        let shape = pool.float_io(name, true).map_err(|e| match e {
            Error::Model(m) => Error::Model(m.replacen("input", "the card's input", 1)),
            other => other,
        })?;
        let fits = |d: i64, want: i64| d < 0 || d == want;
        if shape.len() != 4 || !fits(shape[1], 3) || !fits(shape[2], s) || !fits(shape[3], s) {
            return Err(Error::Model(format!(
                "input {name:?} has shape {shape:?}; the card needs [N, 3, {s}, {s}]"
            )));
        }
        let batch_one = shape[0] == 1;
        if shape[0] > 1 {
            return Err(Error::Model(format!(
                "input {name:?} has a fixed batch of {}; use a dynamic batch or 1",
                shape[0]
            )));
        }
        let out = &card.output.name;
        let shape = pool.float_io(out, false).map_err(|e| match e {
            Error::Model(m) => Error::Model(m.replacen("output", "the card's output", 1)),
            other => other,
        })?;
        if !(shape.len() == 1 || (shape.len() == 2 && fits(shape[1], 1))) {
            return Err(Error::Model(format!(
                "output {out:?} has shape {shape:?}; the card needs one logit per crop ([N, 1] or [N])"
            )));
        }
        Ok(OrtClassifier {
            pool,
            input: name.clone(),
            output: out.clone(),
            batch_one,
        })
    }
}

impl Classifier for OrtClassifier {
    fn logits(&self, batch: &CropBatch) -> Result<Vec<f32>> {
        let per = 3 * batch.size * batch.size;
        let chunk = if self.batch_one { 1 } else { MAX_BATCH };
        let mut out = Vec::with_capacity(batch.n);
        for part in batch.data.chunks(chunk * per) {
            let n = part.len() / per;
            let s = batch.size as i64;
            let (_, logits) =
                self.pool
                    .run(&self.input, &[n as i64, 3, s, s], part, &self.output)?;
            if logits.len() != n {
                return Err(Error::Model(format!(
                    "output {:?} has {} values for {n} crops; expected one logit per crop",
                    self.output,
                    logits.len()
                )));
            }
            out.extend(logits);
        }
        Ok(out)
    }
}
