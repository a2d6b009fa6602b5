"""Train an image-level classifier (`fftavg`) on CPU (seeded), then score the
calib/test images exactly as the runtime does.

  python models/training/train_image.py --out runs/fftavg --extra-pairs runs/pairs_clean

Each training sample is one augmented image region and k crops of it (k drawn
per iteration from 2/4/8/16, as the runtime grid gives 2-16 crops); the network
averages the crops' spectra before classifying. Aligned pairs get the same
region, augmentation and crop positions on both halves. Writes the same files
as train.py (model.pt, log.txt, scores.json), so finalize.py works unchanged.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from nets import make, n_params  # noqa: E402
from train import DEFAULT_DATA, FAKE_SOURCE_W, Images, Meter, finish, load_pools, start_run  # noqa: E402

S = C.CROP
KS, KW = [2, 4, 8, 16], [0.2, 0.3, 0.3, 0.2]


def plan(rng, hw, k, allow_resample, p_jpeg, p_resample, q_range, p_gray=0.15):
    """All random choices for one region, so both halves of a pair match."""
    h, w = hw
    want = S * math.ceil(math.sqrt(k)) + 8
    f = 1.0
    method = None
    if allow_resample and rng.random() < p_resample:
        f = rng.uniform(0.5, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 2.0)
        method = rng.choice(C.RESAMPLERS)
        if min(h, w) * f < S + 2:
            f, method = 1.0, None
    side = min(int(math.ceil(want / f)) + 2, h, w)
    q = rng.randint(*q_range) if rng.random() < p_jpeg else None
    return {"x0": rng.randint(0, w - side), "y0": rng.randint(0, h - side), "side": side,
            "f": f, "method": method, "gray": rng.random() < p_gray, "q": q,
            "sub": rng.choice([0, 2, 2]) if q else None, "flip": rng.random() < 0.5,
            "pos": [(rng.random(), rng.random()) for _ in range(k)]}


def apply(img, p):
    a = img[p["y0"]:p["y0"] + p["side"], p["x0"]:p["x0"] + p["side"]]
    if p["f"] != 1.0:
        a = C.resample(a, p["f"], p["method"])
    if p["gray"]:
        a = C.to_gray(a)
    if p["q"] is not None:
        a = C.jpeg(np.ascontiguousarray(a), p["q"], p["sub"])
    if p["flip"]:
        a = a[:, ::-1]
    h, w = a.shape[:2]
    out = []
    for u, v in p["pos"]:
        x, y = int(u * (w - S + 1)), int(v * (h - S + 1))
        out.append(a[y:y + S, x:x + S])
    return out


def sample_args(ap):
    """The arguments of what Sampler draws (shared with train_linear.py)."""
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--extra-pairs", default=None, nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-pairs", type=int, default=8)
    ap.add_argument("--batch-other", type=int, default=6)
    ap.add_argument("--q-lo", type=int, default=70)
    ap.add_argument("--q-hi", type=int, default=98)
    ap.add_argument("--p-resample-real", type=float, default=0.5)
    ap.add_argument("--p-jpeg-fake", type=float, default=0.7)
    ap.add_argument("--p-jpeg-real", type=float, default=0.4)
    return ap


class Sampler:
    """One step of image-level training samples: k (drawn per step) crops of
    one augmented region each, for `n_pairs` aligned pairs (real half, then
    fake half, same draw), `n_other` other fakes and `n_other` other reals
    (resampled as hard negatives). train_linear.py draws the same way."""

    def __init__(self, a, rng, img, pairs, fake_src, real_src):
        self.a, self.rng, self.img, self.pairs = a, rng, img, pairs
        self.fake_src, self.real_src = fake_src, real_src
        self.fsrcs = sorted(fake_src)
        self.fw = [FAKE_SOURCE_W[s] for s in self.fsrcs]
        self.rsrcs = sorted(real_src)

    def step(self, n_pairs, n_other):
        """-> (k, [(crops, label), ...])"""
        a, rng, img = self.a, self.rng, self.img
        qr = (a.q_lo, a.q_hi)
        k = rng.choices(KS, KW)[0]
        out = []
        for _ in range(n_pairs):
            rp, fp = self.pairs[rng.randrange(len(self.pairs))]
            ri, fi = img(rp), img(fp)
            pl = plan(rng, ri.shape[:2], k, False, a.p_jpeg_fake, 0.0, qr)
            out += [(apply(ri, pl), 0), (apply(fi, pl), 1)]
        for _ in range(n_other):
            s = rng.choices(self.fsrcs, self.fw)[0]
            im = img(self.fake_src[s][rng.randrange(len(self.fake_src[s]))])
            out.append((apply(im, plan(rng, im.shape[:2], k, False, a.p_jpeg_fake, 0.0, qr)), 1))
        for _ in range(n_other):
            s = self.rsrcs[rng.randrange(len(self.rsrcs))]
            im = img(self.real_src[s][rng.randrange(len(self.real_src[s]))])
            out.append((apply(im, plan(rng, im.shape[:2], k, True, a.p_jpeg_real, a.p_resample_real, qr)), 0))
        return k, out


def main():
    ap = sample_args(argparse.ArgumentParser())
    ap.add_argument("--arch", default="fftavg", choices=["fftavg", "fftavg_log"])
    ap.add_argument("--iters", type=int, default=1400)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-eval", action="store_true")
    a = ap.parse_args()

    log = start_run(a)
    rows, pairs, real_src, fake_src = load_pools(a, log)
    img = Images()
    rng = random.Random(a.seed)
    net = make(a.arch, S)
    log("params", n_params(net))
    sampler = Sampler(a, rng, img, pairs, fake_src, real_src)
    t0 = time.time()
    meter = Meter(log, net, a)
    for it in range(1, a.iters + 1):
        k, samples = sampler.step(a.batch_pairs, a.batch_other)
        xs = [c for crops, _ in samples for c in crops]
        ys = [y for _, y in samples]
        x = torch.from_numpy(C.preprocess(np.stack(xs)))
        y = torch.tensor(ys, dtype=torch.float32)
        net.train()
        meter.step(it, net.forward_groups(x, k).squeeze(1), y, a.batch_pairs)
    finish(net, a, img, rows, log, t0)


if __name__ == "__main__":
    main()
