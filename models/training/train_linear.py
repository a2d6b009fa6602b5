"""Fit the image-level linear probe (`speclin`, see nets.SpecLin) on CPU,
seeded, then score the calib/test images exactly as the runtime does.

  python models/training/train_linear.py --out runs/speclin_c --extra-pairs runs/pairs_clean

Training samples are drawn and augmented by train_image.Sampler (same
regions, crop counts, JPEG, grayscale and resampling draws; both halves of a
pair alike). Their spectra go through the fixed read-outs of
nets.spectral_features; an L2 logistic regression is fitted for each C in
--cs and the one with the best calib AUC is kept (the calib split, never the
test split, picks it). Writes model.pt, log.txt and scores.json like the other
trainers, so ensemble.py and finalize.py take it as it is.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import evaluate as E  # noqa: E402
from nets import SpecLin, spectral_features  # noqa: E402
from train import Images, load_pools, start_run, torch_scorer, write_scores  # noqa: E402
from train_image import Sampler, sample_args  # noqa: E402


def main():
    ap = sample_args(argparse.ArgumentParser())
    ap.add_argument("--steps", type=int, default=250, help="sampling steps (as train_image.py draws them)")
    ap.add_argument("--cs", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    a = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    log = start_run(a)
    rows, pairs, real_src, fake_src = load_pools(a, log)
    img = Images()

    net = SpecLin(C.CROP).eval()
    F = spectral_features(C.CROP).numpy()

    @torch.no_grad()
    def feats(crops):
        L = net.spectrum(torch.from_numpy(C.preprocess(np.stack(crops))))
        return F @ L.numpy().reshape(-1)

    sampler = Sampler(a, random.Random(a.seed), img, pairs, fake_src, real_src)
    X, y = [], []
    t0 = time.time()
    for step in range(a.steps):
        for crops, label in sampler.step(a.batch_pairs, a.batch_other)[1]:
            X.append(feats(crops))
            y.append(label)
        if (step + 1) % 50 == 0:
            log(f"step {step + 1}: {len(y)} samples, {(time.time() - t0) / (step + 1):.2f}s/step")
    X, y = np.array(X), np.array(y)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Z = (X - mu) / sd
    # The calib images' spectra (the runtime crop grid) do not depend on C:
    # compute them once, then each C's logit is one weighted sum.
    calib = []
    for r in rows:
        if r["split"] == "calib":
            crops, _ = C.image_crops(C.decode_rgb(r["abspath"]))
            if crops is not None:
                with torch.no_grad():
                    calib.append((r["y"], net.spectrum(torch.from_numpy(C.preprocess(crops)))))
    best = None
    for c in a.cs:
        clf = LogisticRegression(C=c, max_iter=5000).fit(Z, y)
        coef = clf.coef_[0] / sd
        w = torch.from_numpy((coef @ F).astype(np.float32)).view(1, 1, C.CROP, C.CROP)
        b = float(clf.intercept_[0] - (clf.coef_[0] * mu / sd).sum())
        sc = [(lab, float((L * w).sum()) + b) for lab, L in calib]
        auc = E.auc([v for lab, v in sc if lab == 0], [v for lab, v in sc if lab == 1])
        log(f"C={c}: train acc {clf.score(Z, y):.3f}, calib AUC {auc:.3f}")
        if best is None or auc > best[0]:
            best = (auc, c, w.clone(), b)
    auc, c, w, b = best
    net.w.copy_(w)
    net.b.fill_(b)
    log(f"kept C={c} (calib AUC {auc:.3f})")
    args = vars(a) | {"C": c}
    torch.save({"arch": "speclin", "state_dict": net.state_dict(), "args": args}, os.path.join(a.out, "model.pt"))
    img.cache.clear()
    write_scores(torch_scorer(net), rows, a.out, log)
    log(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
