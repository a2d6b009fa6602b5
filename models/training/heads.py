"""Heads on frozen encoder features, written as small ONNX graphs (onnx.helper,
no torch) that the Rust runtime feeds the encoder's output tensor as is.

Graph: hidden [N, T, D] -> token `token` ([N, D]) -> unit-normalised ->
layers (x @ W + b, ReLU between layers) -> logit [N, 1]; optionally a second
head on the same features -> domain [N, 1] (photo / non-photo).
The same numpy function (`apply`) is what training and evaluation use, so the
exported graph is checked against it.
"""
from __future__ import annotations

import numpy as np

OPSET = 17


def features(hidden_or_cls: np.ndarray, token: int = 0) -> np.ndarray:
    """[N, T, D] hidden states (or [N, D] tokens) -> unit-normalised float64 [N, D]."""
    x = hidden_or_cls[:, token, :] if hidden_or_cls.ndim == 3 else hidden_or_cls
    x = x.astype(np.float64)
    return x / np.sqrt((x * x).sum(axis=1, keepdims=True) + 1e-12)


def apply(layers, x: np.ndarray) -> np.ndarray:
    """Logits [N] of unit-normalised features x [N, D]."""
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i + 1 < len(layers):
            x = np.maximum(x, 0.0)
    return x.reshape(-1)


def _dense(nodes, inits, cur, layers, prefix, output_name):
    from onnx import helper, numpy_helper
    for i, (w, b) in enumerate(layers):
        w = np.asarray(w, dtype=np.float32).reshape(np.shape(w)[0], -1)
        b = np.asarray(b, dtype=np.float32).reshape(-1)
        inits += [numpy_helper.from_array(w, f"{prefix}w{i}"), numpy_helper.from_array(b, f"{prefix}b{i}")]
        nodes.append(helper.make_node("MatMul", [cur, f"{prefix}w{i}"], [f"{prefix}m{i}"]))
        out = output_name if i + 1 == len(layers) else f"{prefix}a{i}"
        nodes.append(helper.make_node("Add", [f"{prefix}m{i}", f"{prefix}b{i}"], [out]))
        if i + 1 < len(layers):
            nodes.append(helper.make_node("Relu", [out], [f"{prefix}r{i}"]))
            out = f"{prefix}r{i}"
        cur = out


def head_graph(layers, dim: int, token: int = 0, input_name: str = "hidden", output_name: str = "logit",
               domain_layers=None, domain_name: str = "domain"):
    """The ONNX model (bytes) of `apply(layers, features(hidden, token))`
    (and of the domain head, when given, as a second output)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(np.array(token, dtype=np.int64), "token"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "eps"),
    ]
    nodes = [
        helper.make_node("Gather", [input_name, "token"], ["cls"], axis=1),
        helper.make_node("Mul", ["cls", "cls"], ["sq"]),
        helper.make_node("ReduceSum", ["sq", "axis1"], ["ss"], keepdims=1),
        helper.make_node("Add", ["ss", "eps"], ["sse"]),
        helper.make_node("Sqrt", ["sse"], ["norm"]),
        helper.make_node("Div", ["cls", "norm"], ["x0"]),
    ]
    _dense(nodes, inits, "x0", layers, "", output_name)
    x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", "T", dim])
    ys = [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", 1])]
    if domain_layers is not None:
        _dense(nodes, inits, "x0", domain_layers, "d_", domain_name)
        ys.append(helper.make_tensor_value_info(domain_name, TensorProto.FLOAT, ["N", 1]))
    graph = helper.make_graph(nodes, "head", [x], ys, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="hallmark-training")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
