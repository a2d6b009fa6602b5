"""Train one crop classifier on CPU (seeded), then score calib/test images.

  python models/training/train.py --arch npr --out runs/npr --data ../shared/data/cls

Writes OUT/model.pt, OUT/log.txt, OUT/scores.json (image-level logits on the
calib and test splits under native / JPEG q75 / 0.5x resize).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import evaluate as E  # noqa: E402
from nets import Net, n_params  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = C.default_shared("data/cls")

# sampling weights of the non-paired training fakes
FAKE_SOURCE_W = {"sd2_stability_assets": 0.55, "stylegan2_photo_tiles": 0.2, "ldm_txt2img_compvis": 0.25}


def load_extra_pairs(extra_dirs):
    """Extra TAEF2 pairs made by make_pairs.py: <dir>/{real,fake}/<stem>.png for each dir."""
    rows = []
    if isinstance(extra_dirs, str):
        extra_dirs = [extra_dirs]
    for extra_dir in extra_dirs or []:
        rows += _load_extra_dir(extra_dir)
    return rows


def _load_extra_dir(extra_dir):
    rows = []
    if not extra_dir or not os.path.isdir(os.path.join(extra_dir, "fake")):
        return rows
    for f in sorted(os.listdir(os.path.join(extra_dir, "fake"))):
        if not f.endswith(".png") or ".tmp" in f:
            continue
        stem = f.rsplit(".", 1)[0]
        rows.append({"stem": stem, "real": os.path.join(extra_dir, "real", f),
                     "fake": os.path.join(extra_dir, "fake", f)})
    return rows


def start_run(a):
    """Seed everything from a.seed, create a.out, and return log(*parts),
    which prints and appends to a.out/log.txt."""
    torch.set_num_threads(getattr(a, "threads", 1))
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    logf = open(os.path.join(a.out, "log.txt"), "w")

    def log(*parts):
        msg = " ".join(str(x) for x in parts)
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    return log


def load_pools(a, log):
    """build_pools for a run's --data / --extra-pairs, with a summary line in the log."""
    rows, pairs, real_src, fake_src = build_pools(a.data, a.extra_pairs)
    log(f"arch={getattr(a, 'arch', 'speclin')} seed={a.seed} pairs={len(pairs)} "
        f"reals={ {k: len(v) for k, v in real_src.items()} } fakes={ {k: len(v) for k, v in fake_src.items()} }")
    return rows, pairs, real_src, fake_src


class Images:
    """Decoded training images, each decoded once."""

    def __init__(self):
        self.cache = {}

    def __call__(self, path):
        if path not in self.cache:
            self.cache[path] = C.decode_rgb(path)
        return self.cache[path]


def pair_margin_loss(logit, y, n_pairs):
    """BCE + 0.5 * softplus(real half - fake half) over the first n_pairs
    (real, fake) pairs of the batch: the fake half should score higher.
    Returns (total, bce, fraction of pairs ordered right)."""
    bce = F.binary_cross_entropy_with_logits(logit, y)
    lp = logit[: 2 * n_pairs].view(-1, 2)
    total = bce + 0.5 * F.softplus(lp[:, 0] - lp[:, 1]).mean()
    return total, bce, (lp[:, 1] > lp[:, 0]).float().mean().item()


class Meter:
    """The optimiser (AdamW, one-cycle lr over a.iters steps) and the running
    loss / accuracy / pair order, logged every 50 steps."""

    def __init__(self, log, net, a):
        self.log, self.t0 = log, time.time()
        self.opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(self.opt, max_lr=a.lr, total_steps=a.iters, pct_start=0.1)
        self.loss = self.acc = self.pair = 0.0

    def step(self, it, logit, y, n_pairs):
        """One optimiser step on pair_margin_loss, then the bookkeeping."""
        tot, loss, pair_ok = pair_margin_loss(logit, y, n_pairs)
        self.opt.zero_grad()
        tot.backward()
        self.opt.step()
        self.sched.step()
        self.loss += loss.item()
        self.pair += pair_ok
        self.acc += ((logit > 0).float() == y).float().mean().item()
        if it % 50 == 0:
            self.log(f"it {it} loss {self.loss/50:.4f} acc {self.acc/50:.3f} pair_ok {self.pair/50:.3f} "
                     f"{(time.time()-self.t0)/it:.2f}s/it")
            self.loss = self.acc = self.pair = 0.0


def finish(net, a, img, rows, log, t0):
    """Save out/model.pt, then (unless --no-eval) score calib + test."""
    torch.save({"arch": a.arch, "state_dict": net.state_dict(), "args": vars(a)},
               os.path.join(a.out, "model.pt"))
    log(f"trained in {time.time()-t0:.0f}s")
    if a.no_eval:
        return
    img.cache.clear()
    write_scores(torch_scorer(net), rows, a.out, log)


def write_scores(score, rows, out, log):
    """Score the calib and test images through the runtime path (crop grid +
    aggregation) under native / JPEG q75 / 0.5x and write out/scores.json."""
    ev = [r for r in rows if r["split"] in ("calib", "test")]
    t1 = time.time()
    sc = E.score_images(score, [r["abspath"] for r in ev], conds=("native", "jpeg75", "half"))
    meta = {r["abspath"]: {"path": r["path"], "source": r["source"], "y": r["y"], "split": r["split"]} for r in ev}
    json.dump({"meta": meta, "scores": sc}, open(os.path.join(out, "scores.json"), "w"))
    log(f"scored {len(ev)} images in {time.time()-t1:.0f}s")


def torch_scorer(net):
    net.eval()

    @torch.no_grad()
    def score(x):
        return net(torch.from_numpy(x)).numpy().reshape(-1)

    return score


def build_pools(data_dir, extra_dir):
    rows = C.load_manifest(data_dir)
    for r in rows:
        r["split"] = C.assign_split(r)
        r["abspath"] = os.path.join(data_dir, r["path"])
    train = [r for r in rows if r["split"] == "train"]
    pairs = {}
    for r in train:
        if r["source"] in ("aligned_taef2", "aligned_taef2_src"):
            stem = os.path.basename(r["path"]).rsplit(".", 1)[0]
            pairs.setdefault(stem, {})["fake" if r["y"] else "real"] = r["abspath"]
    pair_list = [(v["real"], v["fake"]) for k, v in sorted(pairs.items()) if len(v) == 2]
    for e in load_extra_pairs(extra_dir):
        pair_list.append((e["real"], e["fake"]))
    reals = [r["abspath"] for r in train if r["y"] == 0]
    reals += [p[0] for p in pair_list[len(pairs):]]  # extra pair reals are real photos too
    real_src = {}
    for r in train:
        if r["y"] == 0:
            real_src.setdefault(r["source"], []).append(r["abspath"])
    if len(pair_list) > len(pairs):
        real_src["extra_pairs_src"] = [p[0] for p in pair_list[len(pairs):]]
    fake_src = {}
    for r in train:
        if r["y"] == 1 and r["source"] in FAKE_SOURCE_W:
            fake_src.setdefault(r["source"], []).append(r["abspath"])
    return rows, pair_list, real_src, fake_src


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--extra-pairs", default=None, nargs="+", help="folder(s) from make_pairs.py")
    ap.add_argument("--q-lo", type=int, default=65, help="JPEG augmentation quality range")
    ap.add_argument("--q-hi", type=int, default=100)
    ap.add_argument("--arch", default="npr")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--batch-pairs", type=int, default=8)
    ap.add_argument("--batch-other", type=int, default=8)
    ap.add_argument("--batch-other-fake", type=int, default=None, help="default: --batch-other")
    ap.add_argument("--reals-from", choices=["all", "pairs"], default="all",
                    help="'pairs': the other (hard-negative) reals are drawn only from the real halves of pairs, "
                         "so no real source appears without its TAEF2 twin")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--p-resample-real", type=float, default=0.5)
    ap.add_argument("--p-jpeg-fake", type=float, default=0.8,
                    help="JPEG re-compression prob. for pairs (both halves) and other fakes")
    ap.add_argument("--p-jpeg-real", type=float, default=0.3,
                    help="for other reals (most real photos already carry JPEG traces)")
    ap.add_argument("--no-eval", action="store_true")
    a = ap.parse_args()

    log = start_run(a)
    rows, pairs, real_src, fake_src = load_pools(a, log)
    img = Images()
    rng = random.Random(a.seed)
    aug = C.Augmenter(p_resample_real=a.p_resample_real, q_range=(a.q_lo, a.q_hi))
    net = Net(a.arch, C.CROP)
    log("params", n_params(net))
    fsrcs = sorted(fake_src)
    fw = [FAKE_SOURCE_W[s] for s in fsrcs]
    rsrcs = sorted(real_src)
    t0 = time.time()
    meter = Meter(log, net, a)
    for it in range(1, a.iters + 1):
        xs, ys = [], []
        # aligned pairs: identical crop + augmentation on both halves
        for _ in range(a.batch_pairs):
            rp, fp = pairs[rng.randrange(len(pairs))]
            ri, fi = img(rp), img(fp)
            pl = aug.plan(rng, ri.shape[:2], allow_resample=False, p_jpeg=a.p_jpeg_fake)
            xs += [aug.apply(ri, pl), aug.apply(fi, pl)]
            ys += [0, 1]
        # other fakes (no resampling: resampling is what real hard negatives get)
        for _ in range(a.batch_other if a.batch_other_fake is None else a.batch_other_fake):
            s = rng.choices(fsrcs, fw)[0]
            p = fake_src[s][rng.randrange(len(fake_src[s]))]
            im = img(p)
            xs.append(aug.apply(im, aug.plan(rng, im.shape[:2], allow_resample=False, p_jpeg=a.p_jpeg_fake)))
            ys.append(1)
        # other reals, half of them resampled (down or up) + maybe JPEG: hard negatives
        for _ in range(a.batch_other):
            if a.reals_from == "pairs":
                p = pairs[rng.randrange(len(pairs))][0]
            else:
                s = rsrcs[rng.randrange(len(rsrcs))]
                p = real_src[s][rng.randrange(len(real_src[s]))]
            im = img(p)
            xs.append(aug.apply(im, aug.plan(rng, im.shape[:2], allow_resample=True, p_jpeg=a.p_jpeg_real)))
            ys.append(0)
        x = torch.from_numpy(C.preprocess(np.stack(xs)))
        y = torch.tensor(ys, dtype=torch.float32)
        net.train()
        meter.step(it, net(x).squeeze(1), y, a.batch_pairs)
    finish(net, a, img, rows, log, t0)


if __name__ == "__main__":
    main()
