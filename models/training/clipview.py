"""The CLIP member's input contract: how an image becomes 224 x 224 encoder crops.

The Rust runtime (src/detect/resize.rs) implements exactly this; golden logits pin
the two together. A semantic encoder is robust to resizing, so unlike the pixel
members this one *does* resize, with a fully specified filter so Python and Rust
agree to the pixel:

1. Decode to RGB uint8 (`common.decode_rgb`).
2. Pre-reduce: if the short side S >= 4 * 224, average k x k blocks with
   k = S // (2 * 224) (the last W % k columns and H % k rows are dropped), in
   float64, not rounded. This bounds the cost of step 3 on 12 MP photos.
3. Resize so the short side is 224: scale = S' / 224 (S' = short side after step 2),
   the long side becomes round_half_up(L' * 224 / S'). Separable triangle filter
   with antialiasing (support max(scale, 1)), pixel centres at i + 0.5, weights
   normalised per output pixel, edges clamped by dropping out-of-range taps
   (like Pillow's resampling), horizontal pass first, float64, only the output
   pixels inside the requested windows are computed.
4. Round half up and clamp to 0..255 (uint8), then x = (v / 255 - mean[c]) / std[c]
   with CLIP's mean/std.
5. Windows in the resized image: `center` = one 224 x 224 window at
   ((W'' - 224) // 2, (H'' - 224) // 2); `five` adds the four corners.
"""
from __future__ import annotations

import numpy as np

SIZE = 224
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def reduce_factor(w: int, h: int, size: int = SIZE) -> int:
    s = min(w, h)
    return s // (2 * size) if s >= 4 * size else 1


def box_reduce(img: np.ndarray, k: int) -> np.ndarray:
    """HxWx3 uint8 -> (H//k)x(W//k)x3 float64 block means."""
    if k <= 1:
        return img.astype(np.float64)
    h, w = img.shape[0] // k * k, img.shape[1] // k * k
    a = img[:h, :w].astype(np.int64).reshape(h // k, k, w // k, k, 3).sum(axis=(1, 3))
    return a.astype(np.float64) / float(k * k)


def resized_size(w: int, h: int, size: int = SIZE) -> tuple[int, int]:
    """(W'', H'') after pre-reduction and the resize to short side `size`."""
    k = reduce_factor(w, h, size)
    w, h = w // k, h // k
    if w <= h:
        return size, (2 * h * size + w) // (2 * w)
    return (2 * w * size + h) // (2 * h), size


def taps(n_in: int, n_out: int, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Triangle-filter taps (Pillow's antialiased scheme) for output pixels
    first..first+count of an n_in -> n_out resize: index and weight arrays of
    shape count x T (unused slots have weight 0 and index of a valid pixel)."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    rows = []
    for i in range(first, first + count):
        center = (i + 0.5) * scale
        lo = max(int(np.floor(center - support)), 0)
        hi = min(int(np.ceil(center + support)), n_in)
        j = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs((j + 0.5 - center) / support))
        tot = w.sum()
        rows.append((j, w / tot if tot > 0 else w))
    t = max(len(j) for j, _ in rows)
    idx = np.zeros((count, t), dtype=np.int64)
    wts = np.zeros((count, t), dtype=np.float64)
    for r, (j, w) in enumerate(rows):
        idx[r, : len(j)] = j
        idx[r, len(j):] = j[-1] if len(j) else 0
        wts[r, : len(w)] = w
    return idx, wts


def windows(w2: int, h2: int, policy: str, size: int = SIZE) -> list[tuple[int, int]]:
    cx, cy = (w2 - size) // 2, (h2 - size) // 2
    if policy == "center":
        return [(cx, cy)]
    if policy == "five":
        return [(cx, cy), (0, 0), (w2 - size, 0), (0, h2 - size), (w2 - size, h2 - size)]
    raise ValueError(policy)


def clip_crops_u8(img: np.ndarray, policy: str = "center", size: int = SIZE) -> np.ndarray:
    """HxWx3 uint8 -> N x size x size x 3 uint8 resized crops (steps 2-4)."""
    h, w = img.shape[:2]
    k = reduce_factor(w, h, size)
    a = box_reduce(img, k)
    h1, w1 = a.shape[:2]
    w2, h2 = resized_size(w, h, size)
    out = []
    for x0, y0 in windows(w2, h2, policy, size):
        ix, wx = taps(w1, w2, x0, size)
        iy, wy = taps(h1, h2, y0, size)
        r0, r1 = int(iy.min()), int(iy.max()) + 1
        sub = a[r0:r1]  # only the source rows the window reads
        horiz = (sub[:, ix, :] * wx[None, :, :, None]).sum(axis=2)  # rows x size x 3
        v = (horiz[iy - r0] * wy[:, :, None, None]).sum(axis=1)  # size x size x 3
        out.append(np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8))
    return np.stack(out)


def normalise(crops_u8: np.ndarray) -> np.ndarray:
    """N x S x S x 3 uint8 -> N x 3 x S x S float32 with CLIP mean/std."""
    x = crops_u8.astype(np.float32) / np.float32(255.0)
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


def clip_input(img: np.ndarray, policy: str = "center") -> np.ndarray:
    return normalise(clip_crops_u8(img, policy))
