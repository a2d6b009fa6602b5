#!/usr/bin/env python3
"""Build tiny ONNX classifiers (with model cards) for hallmark's detect tests.

No torch: the graphs are written with onnx.helper, so every logit is a known
function of the pixels and the Rust tests can predict scores exactly.

    python3 scripts/make_test_models.py OUT_DIR [--bench]

Writes into OUT_DIR, each with a `<name>.card.json` (correct sha256):
  mean.onnx       logit = mean of the normalised crop, input [N,3,H,W], output [N,1]
  mean_flat.onnx  the same with output [N]
  mean_b1.onnx    the same with a fixed input [1,3,32,32]
  rgb.onnx        logit = mean(R) - mean(B) (checks channel order and layout)
  corner.onnx     logit = R value of the crop's top-left pixel (checks the grid)
  two_inputs.onnx a graph with two inputs (must be refused)
  default.json    {"card": "mean.card.json"}
With --bench also:
  bench.onnx      a small random-weight CNN (NPR residual + 4 strided convs,
                  about 0.1M parameters) at crop 256, for examples/bench_detect.rs
"""

import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
CROP = 32


def card_for(name, file_bytes, *, size=CROP, input_name="pixels", output_name="logit", **over):
    card = {
        "name": f"test-{name}",
        "version": "0.0.1",
        "file": f"{name}.onnx",
        "sha256": hashlib.sha256(file_bytes).hexdigest(),
        "input": {
            "name": input_name,
            "layout": "NCHW",
            "channels": "RGB",
            "dtype": "float32",
            "scale": 255.0,
            "mean": [0.0, 0.0, 0.0],
            "std": [1.0, 1.0, 1.0],
        },
        "output": {"name": output_name, "kind": "logit"},
        "crop": {"size": size, "max_crops": 4, "policy": "grid", "min_side": 8, "pad": "zero"},
        "aggregation": "mean_logit",
        "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
        "thresholds": {"ai": 0.7, "real": 0.3},
        "labels": ["real", "ai"],
        "training": {"note": "synthetic test model built by scripts/make_test_models.py"},
        "evaluation": {},
    }
    card.update(over)
    return card


def save(out, name, graph, **card_over):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hallmark-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
        f.write(data)
    with open(os.path.join(out, f"{name}.card.json"), "w") as f:
        json.dump(card_for(name, data, **card_over), f, indent=2)


def x_input(shape=("N", 3, "H", "W"), name="pixels"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def mean_graph(out_shape, in_shape=("N", 3, "H", "W")):
    nodes = [helper.make_node("ReduceMean", ["pixels"], ["m"], axes=[1, 2, 3], keepdims=0)]
    if len(out_shape) == 2:
        nodes.append(helper.make_node("Unsqueeze", ["m", "axis1"], ["logit"]))
        inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")]
    else:
        nodes.append(helper.make_node("Identity", ["m"], ["logit"]))
        inits = []
    y = helper.make_tensor_value_info("logit", TensorProto.FLOAT, list(out_shape))
    return helper.make_graph(nodes, "mean", [x_input(in_shape)], [y], inits)


def image_mean_graph():
    """Image level: the mean pixel of the whole batch (all crops of one
    image), repeated for each crop, like models/training's fftavg."""
    nodes = [
        helper.make_node("ReduceMean", ["pixels"], ["m"], axes=[0, 1, 2, 3], keepdims=0),
        helper.make_node("Shape", ["pixels"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["n"]),
        helper.make_node("Concat", ["n", "one"], ["out_shape"], axis=0),
        helper.make_node("Expand", ["m", "out_shape"], ["logit"]),
    ]
    inits = [numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "one")]
    y = helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", 1])
    return helper.make_graph(nodes, "image_mean", [x_input()], [y], inits)


def rgb_graph():
    w = np.array([1.0, 0.0, -1.0], dtype=np.float32).reshape(1, 3, 1, 1)
    nodes = [
        helper.make_node("Conv", ["pixels", "w"], ["d"]),
        helper.make_node("ReduceMean", ["d"], ["m"], axes=[2, 3], keepdims=0),
    ]
    y = helper.make_tensor_value_info("m", TensorProto.FLOAT, ["N", 1])
    return helper.make_graph(nodes, "rgb", [x_input()], [y], [numpy_helper.from_array(w, "w")])


def corner_graph():
    i64 = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    inits = [
        numpy_helper.from_array(i64([0, 0, 0]), "starts"),
        numpy_helper.from_array(i64([1, 1, 1]), "ends"),
        numpy_helper.from_array(i64([1, 2, 3]), "axes"),
        numpy_helper.from_array(i64([-1, 1]), "shape"),
    ]
    nodes = [
        helper.make_node("Slice", ["pixels", "starts", "ends", "axes"], ["c"]),
        helper.make_node("Reshape", ["c", "shape"], ["corner"]),
    ]
    y = helper.make_tensor_value_info("corner", TensorProto.FLOAT, ["N", 1])
    return helper.make_graph(nodes, "corner", [x_input()], [y], inits)


def two_inputs_graph():
    nodes = [
        helper.make_node("Add", ["pixels", "bias"], ["s"]),
        helper.make_node("ReduceMean", ["s"], ["logit"], axes=[1, 2, 3], keepdims=1),
    ]
    y = helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", 1, 1, 1])
    bias = helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["N", 3, "H", "W"])
    return helper.make_graph(nodes, "two", [x_input(), bias], [y])


def bench_graph(seed=0):
    """NPR-style residual (x - up(down(x))) into 4 stride-2 3x3 convs, GAP, linear."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def param(name, shape, fan_in):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), name))

    inits.append(numpy_helper.from_array(np.array([1, 1, 0.5, 0.5], dtype=np.float32), "half"))
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "double"))
    nodes.append(helper.make_node("Resize", ["pixels", "", "half"], ["down"], mode="nearest"))
    nodes.append(helper.make_node("Resize", ["down", "", "double"], ["up"], mode="nearest"))
    nodes.append(helper.make_node("Sub", ["pixels", "up"], ["npr"]))
    prev, cin = "npr", 3
    for i, cout in enumerate([16, 32, 48, 64]):
        param(f"w{i}", (cout, cin, 3, 3), cin * 9)
        param(f"b{i}", (cout,), 1)
        nodes.append(helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        prev, cin = f"r{i}", cout
    nodes.append(helper.make_node("GlobalAveragePool", [prev], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"]))
    param("fc_w", (1, cin), cin)
    param("fc_b", (1,), 1)
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logit"], transB=1))
    y = helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", 1])
    return helper.make_graph(nodes, "bench", [x_input(("N", 3, 256, 256))], [y], inits)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    out = args[0]
    os.makedirs(out, exist_ok=True)
    save(out, "mean", mean_graph(["N", 1]))
    save(out, "mean_flat", mean_graph(["N"]))
    save(out, "mean_b1", mean_graph([1, 1], in_shape=(1, 3, CROP, CROP)))
    save(out, "image_mean", image_mean_graph())
    save(out, "rgb", rgb_graph(), output_name="m")
    save(out, "corner", corner_graph(), output_name="corner")
    save(out, "two_inputs", two_inputs_graph())
    if "--bench" in sys.argv:
        save(
            out,
            "bench",
            bench_graph(),
            size=256,
            crop={"size": 256, "max_crops": 16, "policy": "grid", "min_side": 64, "pad": "reflect"},
        )
    with open(os.path.join(out, "default.json"), "w") as f:
        json.dump({"card": "mean.card.json"}, f)


if __name__ == "__main__":
    main()
