"""Image-level scoring (crop grid + aggregation) and held-out metrics."""
from __future__ import annotations


import numpy as np
from PIL import Image

import common as C


def degrade(img: np.ndarray, cond: str) -> np.ndarray:
    if cond == "native":
        return img
    if cond == "jpeg75":
        return C.jpeg(img, 75)
    if cond == "half":
        h, w = img.shape[:2]
        return np.asarray(Image.fromarray(img).resize((max(1, round(w * 0.5)), max(1, round(h * 0.5))), Image.BICUBIC))
    if cond == "half_jpeg75":
        return C.jpeg(degrade(img, "half"), 75)
    raise ValueError(cond)


def score_images(score_crops, paths, conds=("native",), agg="mean_logit", cache=None):
    """-> {cond: {path: aggregated logit or None (refused)}}"""
    out = {c: {} for c in conds}
    for p in paths:
        img = cache[p] if cache is not None and p in cache else C.decode_rgb(p)
        for c in conds:
            a = degrade(img, c)
            crops, _ = C.image_crops(a)
            if crops is None:
                out[c][p] = None
                continue
            logits = score_crops(C.preprocess(crops))
            out[c][p] = C.aggregate(logits, agg)
    return out


def auc(neg, pos):
    neg = np.asarray(neg, float)
    pos = np.asarray(pos, float)
    if len(neg) == 0 or len(pos) == 0:
        return float("nan")
    allv = np.concatenate([neg, pos])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    # average ranks for ties
    sv = allv[order]
    i = 0
    r = np.arange(1, len(allv) + 1, dtype=float)
    while i < len(sv):
        j = i
        while j + 1 < len(sv) and sv[j + 1] == sv[i]:
            j += 1
        r[i:j + 1] = (i + j + 2) / 2.0
        i = j + 1
    ranks[order] = r
    rp = ranks[len(neg):].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(neg) * len(pos)))


def thr_at_fpr(neg, fpr=0.05):
    """Smallest threshold t with mean(neg >= t) <= fpr (strictly above the k-th largest)."""
    neg = np.sort(np.asarray(neg, float))[::-1]
    k = int(np.floor(fpr * len(neg)))  # number of negatives allowed at/above t
    if k >= len(neg):
        return -np.inf
    return float(np.nextafter(neg[k], np.inf))


def fit_platt(logits, y, iters=2000, l2=1e-3):
    """Logistic regression of y on one feature (Newton), returns a, b."""
    x = np.asarray(logits, float)
    y = np.asarray(y, float)
    # Platt's smoothed targets
    n1, n0 = y.sum(), len(y) - y.sum()
    t = np.where(y > 0, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(a * x + b, -50, 50)))
        g = np.array([np.sum((p - t) * x) + l2 * a, np.sum(p - t)])
        w = p * (1 - p)
        H = np.array([[np.sum(w * x * x) + l2, np.sum(w * x)], [np.sum(w * x), np.sum(w) + 1e-9]])
        step = np.linalg.solve(H, g)
        step = np.clip(step, -2.0, 2.0)  # damped Newton: stays finite on near-separable data
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(a), float(b)
