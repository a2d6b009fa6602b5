"""Shared pieces of the hallmark classifier pipeline: decoding, the crop grid,
preprocessing, data splits and augmentations.

Everything the Rust runtime (src/detect/) must reproduce lives in
`decode_rgb`, `grid_offsets`, `preprocess` and `aggregate`; keep them in sync
with the model card and models/training/README.md.
"""
from __future__ import annotations

import csv
import io
import math
import os
import random

import numpy as np
from PIL import Image

# ---------------------------------------------------------------- runtime contract

CROP = 128          # S: crop side at native resolution
MAX_CROPS = 16      # K
MIN_SIDE = 128      # images with min(W, H) < MIN_SIDE are "inconclusive"
MEAN = 0.5
STD = 0.25


def decode_rgb(path_or_bytes) -> np.ndarray:
    """Decode to HxWx3 uint8 RGB. Grayscale is replicated, alpha dropped."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        im = Image.open(io.BytesIO(path_or_bytes))
    else:
        im = Image.open(path_or_bytes)
    im.load()
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im).astype(np.int64)
        a = np.clip((a + 128) // 257, 0, 255).astype(np.uint8)  # as the image crate
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode != "RGB":
        im = im.convert("RGB")  # L/LA/P/RGBA/CMYK -> RGB; alpha is dropped, not composited
    return np.asarray(im, dtype=np.uint8).copy()


def axis_offsets(length: int, n: int, size: int = CROP) -> list[int]:
    """n evenly spaced offsets of a `size` window in [0, length-size].
    n == 1: one centred window, floor((length-size)/2).
    n >= 2: round_half_up(i*(length-size)/(n-1)) computed in integers."""
    span = length - size
    if n == 1:
        return [span // 2]
    return [(2 * i * span + (n - 1)) // (2 * (n - 1)) for i in range(n)]


def grid_offsets(w: int, h: int, size: int = CROP, max_crops: int = MAX_CROPS) -> list[tuple[int, int]]:
    """(x, y) of the crops per models/CARD.md: per-axis grid, row-major (y
    outer, x inner), then if N > K the evenly spaced subset
    k_m = (2*m*(N-1) + (K-1)) // (2*(K-1)). Requires w, h >= size."""
    nx = max(1, -(-w // size))
    ny = max(1, -(-h // size))
    xs = axis_offsets(w, nx, size)
    ys = axis_offsets(h, ny, size)
    full = [(x, y) for y in ys for x in xs]
    n, k = len(full), max_crops
    if n <= k:
        return full
    if k == 1:
        return [full[(n - 1) // 2]]
    return [full[(2 * m * (n - 1) + (k - 1)) // (2 * (k - 1))] for m in range(k)]


def preprocess(crops_u8: np.ndarray) -> np.ndarray:
    """N x S x S x 3 uint8 -> N x 3 x S x S float32."""
    x = crops_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def image_crops(img: np.ndarray, size: int = CROP, max_crops: int = MAX_CROPS):
    h, w = img.shape[:2]
    if min(w, h) < MIN_SIDE:
        return None, []
    offs = grid_offsets(w, h, size, max_crops)
    crops = np.stack([img[y:y + size, x:x + size] for x, y in offs])
    return crops, offs


def aggregate(logits: np.ndarray, how: str = "mean_logit") -> float:
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if how == "mean_logit":
        return float(logits.mean())
    if how == "median_logit":
        return float(np.median(logits))
    if how == "max_logit":
        return float(logits.max())
    raise ValueError(how)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


# ---------------------------------------------------------------- data + splits

def default_shared(sub: str) -> str:
    """../shared/<sub> relative to the repo root (or to its parent for a
    worktree under /work/wt/), overridable with HALLMARK_SHARED."""
    env = os.environ.get("HALLMARK_SHARED")
    if env:
        return os.path.join(env, sub)
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    for base in (os.path.join(root, "..", "shared"), os.path.join(root, "..", "..", "shared")):
        if os.path.isdir(os.path.join(base, sub)):
            return os.path.normpath(os.path.join(base, sub))
    return os.path.normpath(os.path.join(root, "..", "shared", sub))


# Generators never seen in training (evaluation split "A"). sd1/coreml share the
# SD KL-f8 VAE decoder with sd2 (a training source); kolors (SDXL VAE),
# kandinsky3 (MoVQ) and meissonic (VQ) have decoders never seen in training.
HELDOUT_FAKE = ["kolors", "kandinsky3", "meissonic", "sd1_compvis_assets", "coreml_sd_apple"]
UNSEEN_DECODER = ["kolors", "kandinsky3", "meissonic"]
TRAIN_FAKE = ["aligned_taef2", "sd2_stability_assets", "ldm_txt2img_compvis", "stylegan2_photo_tiles"]
EXCLUDED_FAKE = ["dcgan_digiface64"]  # 64x64: below MIN_SIDE, refused at runtime
# Real sources held out whole.
CALIB_REAL = ["ircnn_set18_mcmaster"]
TEST_REAL = ["ircnn_val20", "skimage_sklearn", "cset14"]
TRAIN_REAL = ["urban100", "sun_hays80", "ircnn_set24_kodak", "aligned_taef2_src", "cbsd68"]
NON_PHOTO = {"real/cset14/CSet14__comic.png", "real/cset14/CSet14__ppt3.png"}
# debian_wallpaper_photos: split by photo (c0/c1 together): train / calib / test.


def group_key(row) -> str:
    """Key that keeps related files in one split."""
    src = row["source"]
    name = os.path.basename(row["path"]).rsplit(".", 1)[0]
    if src in ("aligned_taef2", "aligned_taef2_src"):
        return "pair:" + name
    if name.endswith("_c0") or name.endswith("_c1"):
        name = name[:-3]
    if src == "coreml_sd_apple":
        # prompt + seed + model: the compute-unit variants are near-duplicates
        import re
        name = re.sub(r"_computeUnit_[A-Z_]+?_modelVersion", "_modelVersion", name)
    return src + ":" + name


def stable_frac(key: str, salt: str = "hallmark") -> float:
    import hashlib
    d = hashlib.sha256((salt + key).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2.0 ** 64


def load_manifest(data_dir: str):
    rows = list(csv.DictReader(open(os.path.join(data_dir, "manifest.csv"))))
    for r in rows:
        r["y"] = 1 if r["label"] == "fake" else 0
        r["group"] = group_key(r)
    return rows


def assign_split(row) -> str:
    """train / val / calib / test / excluded."""
    src = row["source"]
    if src in EXCLUDED_FAKE:
        return "excluded"
    if src in HELDOUT_FAKE:
        return "test"
    if src in TEST_REAL:
        return "test"
    if src in CALIB_REAL:
        return "calib"
    f = stable_frac(row["group"])
    if src == "debian_wallpaper_photos":
        return "train" if f < 0.5 else ("calib" if f < 0.75 else "test")
    if src in TRAIN_FAKE or src in TRAIN_REAL:
        # a slice of the training generators' groups (pairs by stem) for
        # calibration of the seen families; never the same group as training
        return "calib" if f < 0.15 else "train"
    raise ValueError(src)


# ---------------------------------------------------------------- augmentation

def to_gray(a: np.ndarray) -> np.ndarray:
    g = np.asarray(Image.fromarray(a).convert("L"))
    return np.repeat(g[:, :, None], 3, axis=2)


def jpeg(a: np.ndarray, q: int, subsampling: int | None = None) -> np.ndarray:
    buf = io.BytesIO()
    kw = {}
    if subsampling is not None:
        kw["subsampling"] = subsampling
    Image.fromarray(a).save(buf, format="JPEG", quality=int(q), **kw)
    return decode_rgb(buf.getvalue())


RESAMPLERS = [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS]


def resample(a: np.ndarray, f: float, method) -> np.ndarray:
    h, w = a.shape[:2]
    nw, nh = max(1, int(round(w * f))), max(1, int(round(h * f)))
    return np.asarray(Image.fromarray(a).resize((nw, nh), method))


class Augmenter:
    """Random crop + augmentation. `plan` draws all random choices once so the
    two halves of an aligned pair get identical treatment."""

    def __init__(self, size=CROP, p_gray=0.15, p_jpeg=0.5, q_range=(65, 100),
                 p_resample_real=0.3):
        self.size = size
        self.p_gray = p_gray
        self.p_jpeg = p_jpeg
        self.q_range = q_range
        self.p_resample_real = p_resample_real

    def plan(self, rng: random.Random, hw, allow_resample: bool, p_jpeg: float | None = None):
        h, w = hw
        s = self.size
        p = {"flip": rng.random() < 0.5, "gray": rng.random() < self.p_gray}
        f = 1.0
        if allow_resample and rng.random() < self.p_resample_real:
            f = rng.uniform(0.5, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 2.0)
            p["method"] = rng.choice(RESAMPLERS)
        p["f"] = f
        pj = self.p_jpeg if p_jpeg is None else p_jpeg
        p["jpeg_q"] = rng.randint(*self.q_range) if rng.random() < pj else None
        p["sub"] = rng.choice([0, 2, 2]) if p["jpeg_q"] else None
        # region to take from the source before resample (+ 16 px margin for a
        # random JPEG grid phase after compression)
        need = s + 16
        src_side = int(math.ceil(need / f)) + 2
        src_side = min(src_side, h, w)
        p["x0"] = rng.randint(0, w - src_side)
        p["y0"] = rng.randint(0, h - src_side)
        p["side"] = src_side
        p["ox"] = rng.random()
        p["oy"] = rng.random()
        return p

    def apply(self, img: np.ndarray, p) -> np.ndarray:
        s = self.size
        a = img[p["y0"]:p["y0"] + p["side"], p["x0"]:p["x0"] + p["side"]]
        if p["f"] != 1.0:
            a = resample(a, p["f"], p["method"])
        if p["gray"]:
            a = to_gray(a)
        if p["jpeg_q"] is not None:
            a = jpeg(np.ascontiguousarray(a), p["jpeg_q"], p["sub"])
        h, w = a.shape[:2]
        if h < s or w < s:  # tiny source: reflect-pad (training only)
            a = np.pad(a, ((0, max(0, s - h)), (0, max(0, s - w)), (0, 0)), mode="reflect")
            h, w = a.shape[:2]
        x = int(p["ox"] * (w - s + 1)) if w > s else 0
        y = int(p["oy"] * (h - s + 1)) if h > s else 0
        a = a[y:y + s, x:x + s]
        if p["flip"]:
            a = a[:, ::-1]
        return np.ascontiguousarray(a)
