//! Detection: the AI-image classifier (ONNX model run with `ort`), its model
//! card, preprocessing and crop policy.
//!
//! Not built yet: see the detection issue.
