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
  standin_encoder.onnx  a tiny stand-in for the CLIP encoder (same input and
                  output names and shapes: pixel_values [N,3,224,224] ->
                  image_embeds [N,512], onnx::Gather_1524 [N,197,768])
  standin_head.onnx     a head on it (models/training/heads.py, random weights)
  fused.card.json a fused card: the `mean` pixel member + the stand-in encoder
                  with its head (the encoder is found through --encoder)
  fused_golden.json     per-member logits and p_ai that Python computes
                  (models/training/clipview.py + onnxruntime) for procedural
                  images the Rust tests regenerate (`pattern` below)
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "training"))
import clipview  # noqa: E402
import heads  # noqa: E402

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


def standin_encoder_graph(seed=1):
    """pixel_values -> 16x16 average pool -> 196 patch tokens (x @ W, tanh);
    the first token is their mean (a CLS stand-in); embeds = CLS @ W2."""
    rng = np.random.default_rng(seed)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    inits = [
        numpy_helper.from_array(f32(rng.standard_normal((3, 768))), "w_tok"),
        numpy_helper.from_array(f32(rng.standard_normal((768, 512)) / 28.0), "w_emb"),
        numpy_helper.from_array(np.array([0, 3, 196], dtype=np.int64), "s_flat"),
        numpy_helper.from_array(np.array([0, 768], dtype=np.int64), "s_cls"),
    ]
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["pool"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Reshape", ["pool", "s_flat"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["tok_in"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["tok_in", "w_tok"], ["tok_lin"]),
        helper.make_node("Tanh", ["tok_lin"], ["tokens"]),
        helper.make_node("ReduceMean", ["tokens"], ["cls"], axes=[1], keepdims=1),
        helper.make_node("Concat", ["cls", "tokens"], ["onnx::Gather_1524"], axis=1),
        helper.make_node("Reshape", ["cls", "s_cls"], ["cls2"]),
        helper.make_node("MatMul", ["cls2", "w_emb"], ["image_embeds"]),
    ]
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])
    ys = [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", 512]),
          helper.make_tensor_value_info("onnx::Gather_1524", TensorProto.FLOAT, ["batch", 197, 768])]
    return helper.make_graph(nodes, "standin_clip", [x], ys, inits)


def pattern(w, h):
    """The procedural test image the Rust tests regenerate (uint8 HxWx3)."""
    x = np.arange(w, dtype=np.int64)[None, :]
    y = np.arange(h, dtype=np.int64)[:, None]
    r = (x * 3 + y * 5) % 256
    g = (x * y // 7) % 256
    b = ((x ^ y) * 3) % 256
    return np.stack(np.broadcast_arrays(r, g, b), axis=2).astype(np.uint8)


FUSED = {"weights": [0.5, 1.5], "bias": -0.25}
FUSED_SIZES = [(300, 200), (1000, 950), (240, 500)]


def save_fused(out):
    import onnxruntime as ort
    enc = helper.make_model(standin_encoder_graph(), opset_imports=[helper.make_opsetid("", OPSET)],
                            producer_name="hallmark-tests")
    enc.ir_version = 8
    onnx.checker.check_model(enc)
    enc_bytes = enc.SerializeToString()
    rng = np.random.default_rng(7)
    layers = [(rng.standard_normal((768, 8)), rng.standard_normal(8) / 10),
              (rng.standard_normal((8, 1)), np.array([0.1]))]
    domain_layers = [(rng.standard_normal((768, 1)), np.array([0.0]))]
    head_bytes = heads.head_graph(layers, 768, domain_layers=domain_layers)
    for name, data in (("standin_encoder.onnx", enc_bytes), ("standin_head.onnx", head_bytes)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    view = {"size": 224, "resize": "box_triangle", "windows": "center", "scale": 255.0,
            "mean": [float(v) for v in clipview.MEAN], "std": [float(v) for v in clipview.STD]}
    card = {
        "name": "test-fused", "version": "0.0.1",
        "members": [
            {"kind": "pixel", "name": "spectral", "card": "mean.card.json"},
            {"kind": "encoder_head", "name": "clip",
             "encoder": {"package": "hallmark-test-standin==0.0.0", "file": "hallmark_test_standin/standin_encoder.onnx",
                         "sha256": hashlib.sha256(enc_bytes).hexdigest(), "bytes": len(enc_bytes),
                         "input": "pixel_values", "output": "onnx::Gather_1524"},
             "view": view,
             "head": {"file": "standin_head.onnx", "sha256": hashlib.sha256(head_bytes).hexdigest(),
                      "input": "hidden", "output": "logit", "domain_output": "domain"},
             "aggregation": "mean_logit"},
        ],
        "fusion": FUSED,
        "calibration": {"method": "platt", "a": 1.2, "b": 0.1},
        "thresholds": {"ai": 0.7, "real": 0.3},
        "domain": {"member": "clip", "nonphoto_at": -2.08, "thresholds": {"ai": 0.9, "real": 0.1}},
        "labels": ["real", "ai"],
        "training": {"note": "synthetic test model built by scripts/make_test_models.py"},
    }
    with open(os.path.join(out, "fused.card.json"), "w") as f:
        json.dump(card, f, indent=2)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s_enc = ort.InferenceSession(enc_bytes, so, providers=["CPUExecutionProvider"])
    s_head = ort.InferenceSession(head_bytes, so, providers=["CPUExecutionProvider"])
    cases = []
    for w, h in FUSED_SIZES:
        img = pattern(w, h)
        views = clipview.clip_crops_u8(img, "center")
        hidden = s_enc.run(["onnx::Gather_1524"], {"pixel_values": clipview.normalise(views)})[0]
        clip, dom = (o.reshape(-1) for o in s_head.run(["logit", "domain"], {"hidden": hidden}))
        nx, ny = -(-w // CROP), -(-h // CROP)
        xs = [(2 * i * (w - CROP) + (nx - 1)) // (2 * (nx - 1)) for i in range(nx)]
        ys = [(2 * i * (h - CROP) + (ny - 1)) // (2 * (ny - 1)) for i in range(ny)]
        full = [(x, y) for y in ys for x in xs]
        n, k = len(full), 4
        keep = [full[(2 * m * (n - 1) + (k - 1)) // (2 * (k - 1))] for m in range(k)]
        mean = float(np.mean([img[y:y + CROP, x:x + CROP].astype(np.float32).mean() / 255.0 for x, y in keep]))
        z = FUSED["bias"] + FUSED["weights"][0] * mean + FUSED["weights"][1] * float(clip.mean())
        p = 1.0 / (1.0 + np.exp(-(1.2 * z + 0.1)))
        t = card["domain"]["thresholds"] if dom.mean() >= card["domain"]["nonphoto_at"] else card["thresholds"]
        cases.append({"width": w, "height": h, "view_u8_sum": int(views.astype(np.int64).sum()),
                      "spectral": mean, "clip": [float(v) for v in clip], "domain": float(dom.mean()),
                      "logit": z, "p_ai": float(p),
                      "label": "ai" if p >= t["ai"] else ("real" if p <= t["real"] else "inconclusive")})
    with open(os.path.join(out, "fused_golden.json"), "w") as f:
        json.dump({"tolerance": 1e-4, "cases": cases}, f, indent=1)


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
    save_fused(out)
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
