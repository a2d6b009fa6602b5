"""Paired bootstrap of the held-out AUC difference between two runs.

  python models/training/bootstrap.py runs/A runs/B [--cond native] [--n 2000]

Resamples the test split's real photos and fakes (with replacement, each
class separately, the same draw for both runs) and prints AUC(B) - AUC(A)
with its 95% percentile interval, overall and on the unseen decoders. An
interval that straddles 0 means the test split cannot tell the runs apart.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import evaluate as E  # noqa: E402


def load(run, cond):
    d = json.load(open(os.path.join(run, "scores.json")))
    return d["meta"], d["scores"][cond]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--cond", default="native")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    meta, sa = load(a.a, a.cond)
    _, sb = load(a.b, a.cond)
    paths = [p for p, m in meta.items() if m["split"] == "test" and m["path"] not in C.NON_PHOTO
             and sa.get(p) is not None and sb.get(p) is not None]
    rng = np.random.default_rng(a.seed)
    for name, fake_ok in (("all held-out", lambda s: True), ("unseen decoders", lambda s: s in C.UNSEEN_DECODER)):
        real = [p for p in paths if meta[p]["y"] == 0]
        fake = [p for p in paths if meta[p]["y"] == 1 and fake_ok(meta[p]["source"])]
        ra, rb = np.array([sa[p] for p in real]), np.array([sb[p] for p in real])
        fa, fb = np.array([sa[p] for p in fake]), np.array([sb[p] for p in fake])
        d0 = E.auc(rb, fb) - E.auc(ra, fa)
        ds = []
        for _ in range(a.n):
            i = rng.integers(0, len(real), len(real))
            j = rng.integers(0, len(fake), len(fake))
            ds.append(E.auc(rb[i], fb[j]) - E.auc(ra[i], fa[j]))
        lo, hi = np.percentile(ds, [2.5, 97.5])
        print(f"{name}: AUC {E.auc(ra, fa):.3f} -> {E.auc(rb, fb):.3f}, difference {d0:+.3f} "
              f"(95% interval {lo:+.3f} .. {hi:+.3f}; {len(real)} real, {len(fake)} fake)")


if __name__ == "__main__":
    main()
