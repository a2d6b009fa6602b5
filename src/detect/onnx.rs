//! The ONNX Runtime implementation of [`Classifier`].
//!
//! A session is created from the verified model bytes and checked against
//! the card (input and output names, element types, fixed dimensions).
//! `ort` sessions run with `&mut self`, so the classifier keeps a small pool:
//! a thread takes a session, runs it, and puts it back; when all are busy a
//! new one is made from the same bytes. One thread scoring many files
//! reuses one session.

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

/// A classifier backed by an ONNX Runtime session.
pub struct OrtClassifier {
    runtime: &'static OrtRuntime,
    model: Vec<u8>,
    config: SessionConfig,
    input: String,
    output: String,
    batch_one: bool,
    pool: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for OrtClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtClassifier")
            .field("library", &self.runtime.library())
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
        let session = new_session(runtime, &model, config)?;
        let s = i64::from(card.crop.size);
        let names = |o: &[ort::value::Outlet]| {
            o.iter()
                .map(|i| i.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if session.inputs().len() != 1 {
            return Err(Error::Model(format!(
                "the model has {} inputs ({}); hallmark feeds exactly one",
                session.inputs().len(),
                names(session.inputs())
            )));
        }
        let input = session
            .inputs()
            .iter()
            .find(|i| i.name() == card.input.name)
            .ok_or_else(|| {
                Error::Model(format!(
                    "the card's input {:?} is not in the model (inputs: {})",
                    card.input.name,
                    names(session.inputs())
                ))
            })?;
        let (ty, shape) = dims(input.dtype())
            .ok_or_else(|| Error::Model(format!("input {:?} is not a tensor", card.input.name)))?;
        if ty != TensorElementType::Float32 {
            return Err(Error::Model(format!(
                "input {:?} is {ty:?}, not float32",
                card.input.name
            )));
        }
        let fits = |d: i64, want: i64| d < 0 || d == want;
        if shape.len() != 4 || !fits(shape[1], 3) || !fits(shape[2], s) || !fits(shape[3], s) {
            return Err(Error::Model(format!(
                "input {:?} has shape {shape:?}; the card needs [N, 3, {s}, {s}]",
                card.input.name
            )));
        }
        let batch_one = shape[0] == 1;
        if shape[0] > 1 {
            return Err(Error::Model(format!(
                "input {:?} has a fixed batch of {}; use a dynamic batch or 1",
                card.input.name, shape[0]
            )));
        }
        let output = session
            .outputs()
            .iter()
            .find(|o| o.name() == card.output.name)
            .ok_or_else(|| {
                Error::Model(format!(
                    "the card's output {:?} is not in the model (outputs: {})",
                    card.output.name,
                    names(session.outputs())
                ))
            })?;
        let (ty, shape) = dims(output.dtype()).ok_or_else(|| {
            Error::Model(format!("output {:?} is not a tensor", card.output.name))
        })?;
        if ty != TensorElementType::Float32 {
            return Err(Error::Model(format!(
                "output {:?} is {ty:?}, not float32",
                card.output.name
            )));
        }
        if !(shape.len() == 1 || (shape.len() == 2 && fits(shape[1], 1))) {
            return Err(Error::Model(format!(
                "output {:?} has shape {shape:?}; the card needs one logit per crop ([N, 1] or [N])",
                card.output.name
            )));
        }
        Ok(OrtClassifier {
            runtime,
            model,
            config,
            input: card.input.name.clone(),
            output: card.output.name.clone(),
            batch_one,
            pool: Mutex::new(vec![session]),
        })
    }

    fn take(&self) -> Result<Session> {
        let idle = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(s) => Ok(s),
            None => new_session(self.runtime, &self.model, self.config),
        }
    }

    fn give_back(&self, s: Session) {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(s);
    }

    fn run(&self, session: &mut Session, data: &[f32], n: usize, size: usize) -> Result<Vec<f32>> {
        let shape = [n as i64, 3, size as i64, size as i64];
        let tensor = TensorRef::from_array_view((shape, data)).map_err(rt_err("input tensor"))?;
        let outputs = session
            .run(ort::inputs![self.input.as_str() => tensor])
            .map_err(rt_err("inference"))?;
        let value = outputs.get(&self.output).ok_or_else(|| {
            Error::Runtime(format!("the model produced no output {:?}", self.output))
        })?;
        let (_, logits) = value
            .try_extract_tensor::<f32>()
            .map_err(rt_err("output"))?;
        if logits.len() != n {
            return Err(Error::Model(format!(
                "output {:?} has {} values for {n} crops; expected one logit per crop",
                self.output,
                logits.len()
            )));
        }
        Ok(logits.to_vec())
    }
}

impl Classifier for OrtClassifier {
    fn logits(&self, batch: &CropBatch) -> Result<Vec<f32>> {
        let mut session = self.take()?;
        let per = 3 * batch.size * batch.size;
        let chunk = if self.batch_one { 1 } else { MAX_BATCH };
        let mut out = Vec::with_capacity(batch.n);
        let mut result = Ok(());
        for part in batch.data.chunks(chunk * per) {
            match self.run(&mut session, part, part.len() / per, batch.size) {
                Ok(l) => out.extend(l),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.give_back(session);
        result.map(|()| out)
    }
}
