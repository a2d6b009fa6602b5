"""Export the TAEF2 autoencoder (tiny FLUX.2 VAE, github madebyollin/taesd,
MIT) to two ONNX models, without torch: the PyTorch state_dicts are read
with a restricted unpickler and the graphs are written with the `onnx`
package. The watermark benchmark (`examples/wm_robustness/`, `--taef2 DIR`)
runs them through ONNX Runtime as a regeneration attack.

  python3 scripts/taef2_onnx.py [--weights ../shared/data/weights] [--out target/taef2]

Architecture as in models/training/make_pairs.py (the "flux_2" variant:
GroupNorm pool branches in the lowest-resolution blocks). Input: RGB in
[0, 1], NCHW float32; the encoder gives a 32-channel latent at 1/8 size, the
decoder maps it back (clamp to [0, 1] is left to the caller).
"""
from __future__ import annotations

import argparse
import collections
import os
import pickle
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16}


def load_state_dict(path: str) -> dict[str, np.ndarray]:
    """A torch.save()d state_dict of float tensors, as float32 arrays. Only
    the three classes such a file needs are allowed."""
    z = zipfile.ZipFile(path)
    root = z.namelist()[0].split("/")[0]

    def rebuild(storage, offset, size, stride, *_):
        arr = storage[0]
        view = np.lib.stride_tricks.as_strided(
            arr[offset:], shape=size, strides=[s * arr.itemsize for s in stride])
        return np.array(view, dtype=np.float32)

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in DTYPES:
                return DTYPES[name]
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"refusing {module}.{name}")

        def persistent_load(self, pid):
            _, dtype, key, _loc, _numel = pid
            return (np.frombuffer(z.read(f"{root}/data/{key}"), dtype=dtype),)

    return dict(Restricted(z.open(f"{root}/data.pkl")).load())


class Graph:
    def __init__(self, sd: dict[str, np.ndarray]):
        self.sd, self.nodes, self.inits, self.n = sd, [], [], 0

    def name(self, tag: str) -> str:
        self.n += 1
        return f"{tag}_{self.n}"

    def const(self, arr: np.ndarray, tag: str) -> str:
        nm = self.name(tag)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), nm))
        return nm

    def op(self, kind: str, inputs: list[str], **attrs) -> str:
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(self, x: str, key: str, stride: int = 1) -> str:
        w = self.sd[f"{key}.weight"]
        ins = [x, self.const(w, key + ".w")]
        if f"{key}.bias" in self.sd:
            ins.append(self.const(self.sd[f"{key}.bias"], key + ".b"))
        k = w.shape[-1]
        return self.op("Conv", ins, kernel_shape=[k, k], pads=[k // 2] * 4, strides=[stride, stride])

    def relu(self, x: str) -> str:
        return self.op("Relu", [x])

    def group_norm(self, x: str, key: str, groups: int = 4, eps: float = 1e-5) -> str:
        gamma, beta = self.sd[f"{key}.weight"], self.sd[f"{key}.bias"]
        c = gamma.shape[0]
        shape_in = self.op("Shape", [x])
        grouped = self.op("Reshape", [x, self.const_i64([0, groups, -1])])
        normed = self.op("InstanceNormalization",
                         [grouped, self.const(np.ones(groups), "gn1"), self.const(np.zeros(groups), "gn0")],
                         epsilon=eps)
        back = self.op("Reshape", [normed, shape_in])
        scaled = self.op("Mul", [back, self.const(gamma.reshape(c, 1, 1), key + ".g")])
        return self.op("Add", [scaled, self.const(beta.reshape(c, 1, 1), key + ".be")])

    def const_i64(self, vals) -> str:
        nm = self.name("shape")
        self.inits.append(numpy_helper.from_array(np.asarray(vals, dtype=np.int64), nm))
        return nm

    def block(self, x: str, key: str) -> str:
        if f"{key}.pool.0.weight" in self.sd:
            p = self.conv(x, f"{key}.pool.0")
            p = self.relu(self.group_norm(p, f"{key}.pool.1"))
            x = self.op("Add", [x, self.conv(p, f"{key}.pool.3")])
        h = self.relu(self.conv(x, f"{key}.conv.0"))
        h = self.relu(self.conv(h, f"{key}.conv.2"))
        h = self.conv(h, f"{key}.conv.4")
        return self.relu(self.op("Add", [h, x]))

    def upsample(self, x: str) -> str:
        scales = self.const(np.array([1, 1, 2, 2]), "scales")
        return self.op("Resize", [x, "", scales], mode="nearest",
                       coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def model(self, x: str, y: str, in_ch: int, out_ch: int, tag: str) -> onnx.ModelProto:
        self.nodes.append(helper.make_node("Identity", [y], ["output"]))
        g = helper.make_graph(
            self.nodes, tag,
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, in_ch, "h", "w"])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, out_ch, None, None])],
            self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def encoder(sd) -> onnx.ModelProto:
    g = Graph(sd)
    x = g.conv("input", "0")
    for i in range(1, 14):
        x = g.conv(x, str(i), stride=2) if i in (2, 6, 10) else g.block(x, str(i))
    return g.model("input", g.conv(x, "14"), 3, 32, "taef2_encoder")


def decoder(sd) -> onnx.ModelProto:
    g = Graph(sd)
    # Clamp: tanh(x / 3) * 3
    x = g.op("Mul", [g.op("Tanh", [g.op("Mul", ["input", g.const(np.float32(1 / 3), "third")])]),
                     g.const(np.float32(3), "three")])
    x = g.relu(g.conv(x, "1"))
    for i in range(3, 19):
        if i in (6, 11, 16):
            x = g.upsample(x)
        elif i in (7, 12, 17):
            x = g.conv(x, str(i))
        else:
            x = g.block(x, str(i))
    return g.model("input", g.conv(x, "19"), 32, 3, "taef2_decoder")


def default_weights() -> str:
    """../shared/data/weights beside the repo (or beside its parent, for a
    worktree), overridable with HALLMARK_SHARED."""
    env = os.environ.get("HALLMARK_SHARED")
    if env:
        return os.path.join(env, "data", "weights")
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    for up in ("..", os.path.join("..", "..")):
        cand = os.path.normpath(os.path.join(root, up, "shared", "data", "weights"))
        if os.path.isdir(cand):
            return cand
    return os.path.normpath(os.path.join(root, "..", "shared", "data", "weights"))


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=default_weights())
    ap.add_argument("--out", default=os.path.join(here, "..", "target", "taef2"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for part, build in (("encoder", encoder), ("decoder", decoder)):
        sd = load_state_dict(os.path.join(a.weights, f"taef2_{part}.pth"))
        path = os.path.join(a.out, f"taef2_{part}.onnx")
        onnx.save(build(sd), path + ".tmp")
        os.replace(path + ".tmp", path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
