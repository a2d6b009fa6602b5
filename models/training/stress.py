"""Processed real photos: does the shipped model mistake them for generated?

  python models/training/stress.py [--models models/] [--data ../shared/data/cls]

Scores the test split's real photos (and, for AUC, its held-out fakes as they
are) with the model in --models (onnxruntime only), after processing that a
real photo often gets: blur, denoising (median filters), sharpening,
upscaling, downscaling, JPEG. Prints, per processing, the share of real
photos at or above the card's calib-fitted "ai" threshold
(evaluation.thresholds_from_calib.ai) and the AUC of held-out fakes against
the processed real photos.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_model as M  # noqa: E402
import common as C  # noqa: E402
import evaluate as E  # noqa: E402


def pil_op(f):
    return lambda a: np.asarray(f(Image.fromarray(a)))


def resize(f):
    return pil_op(lambda im: im.resize((round(im.width * f), round(im.height * f)), Image.LANCZOS))


PROCESSING = {
    "none": lambda a: a,
    "gaussian blur r=1": pil_op(lambda im: im.filter(ImageFilter.GaussianBlur(1))),
    "median 3x3 (denoise)": pil_op(lambda im: im.filter(ImageFilter.MedianFilter(3))),
    "median 5x5 (strong denoise)": pil_op(lambda im: im.filter(ImageFilter.MedianFilter(5))),
    "unsharp mask r=2 150%": pil_op(lambda im: im.filter(ImageFilter.UnsharpMask(2, 150, 3))),
    "upscale 2x lanczos": resize(2.0),
    "downscale 0.75x lanczos": resize(0.75),
    "JPEG q90": lambda a: C.jpeg(a, 90),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=M.MODELS)
    ap.add_argument("--data", default=C.default_shared("data/cls"))
    a = ap.parse_args()
    card, sess = M.load(a.models)
    t_ai = card["evaluation"]["thresholds_from_calib"]["ai"]
    rows = [r for r in C.load_manifest(a.data) if C.assign_split(r) == "test"]

    def p_ai(img):
        return M.score_image(card, sess, img)["score"]

    fakes = [p_ai(C.decode_rgb(os.path.join(a.data, r["path"]))) for r in rows if r["y"] == 1]
    fakes = [f for f in fakes if f is not None]
    reals = [C.decode_rgb(os.path.join(a.data, r["path"])) for r in rows
             if r["y"] == 0 and r["path"] not in C.NON_PHOTO]
    print(f"{card['name']} {card['version']}: {len(reals)} held-out real photos, {len(fakes)} held-out fakes "
          f"(unprocessed); calib threshold ai >= {t_ai:.3f}\n")
    print("| processing of the real photos | mean p_ai | real photos at or above T_ai | AUC vs held-out fakes |")
    print("|---|---|---|---|")
    for name, f in PROCESSING.items():
        s = [p_ai(np.ascontiguousarray(f(im))) for im in reals]
        s = np.array([v for v in s if v is not None])
        print(f"| {name} | {s.mean():.2f} | {np.mean(s >= t_ai):.0%} ({int(np.sum(s >= t_ai))}/{len(s)}) | "
              f"{E.auc(s, fakes):.2f} |")


if __name__ == "__main__":
    main()
