"""Make extra aligned real/fake pairs with TAEF2 (tiny FLUX.2 VAE autoencoder).

Only images in the *train* split are used (see common.assign_split), so no
held-out image leaks into training. For each, crops of CROPxCROP at seeded
16-aligned offsets are saved losslessly as real/<stem>.png and their TAEF2
reconstruction (encode -> decode -> clamp(0,1) -> x255 round) as fake/<stem>.png.
Grayscale sources are fed as gray RGB and the reconstruction converted back to
8-bit gray (PIL "L"), as in ../shared/data/cls/README.md.

  python models/training/make_pairs.py --out runs/pairs --size 256
  python models/training/make_pairs.py --check   # reproduce shipped pairs
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_W = C.default_shared("data/weights")
DEFAULT_DATA = C.default_shared("data/cls")


# --- TAESD architecture (github madebyollin/taesd, MIT), rewritten here; the
# flux_2 variant has GroupNorm "pool" branches in the mid (lowest-res) blocks.
def conv(n_in, n_out, **kw):
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    def __init__(self, n_in, n_out, gn=False):
        super().__init__()
        self.conv = nn.Sequential(conv(n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()
        if gn:
            n_gn = n_in * 4
            self.pool = nn.Sequential(nn.Conv2d(n_in, n_gn, 1, bias=False), nn.GroupNorm(4, n_gn),
                                      nn.ReLU(inplace=True), nn.Conv2d(n_gn, n_in, 1, bias=False))

    def forward(self, x):
        if hasattr(self, "pool"):
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + self.skip(x))


def Encoder(lc=32, gn=True):
    return nn.Sequential(
        conv(3, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64), Block(64, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64), Block(64, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64, gn), Block(64, 64, gn), Block(64, 64, gn),
        conv(64, lc))


def Decoder(lc=32, gn=True):
    return nn.Sequential(
        Clamp(), conv(lc, 64), nn.ReLU(),
        Block(64, 64, gn), Block(64, 64, gn), Block(64, 64, gn), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), Block(64, 64), Block(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), Block(64, 64), Block(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), conv(64, 3))


def load_taef2(wdir):
    enc, dec = Encoder(), Decoder()
    enc.load_state_dict(torch.load(os.path.join(wdir, "taef2_encoder.pth"), map_location="cpu", weights_only=True))
    dec.load_state_dict(torch.load(os.path.join(wdir, "taef2_decoder.pth"), map_location="cpu", weights_only=True))
    return enc.eval(), dec.eval()


@torch.no_grad()
def reconstruct(enc, dec, rgb_u8: np.ndarray, gray: bool) -> np.ndarray:
    x = torch.from_numpy(rgb_u8.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    y = dec(enc(x)).clamp(0, 1)
    out = (y[0].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    if gray:
        return np.asarray(Image.fromarray(out).convert("L"))
    return out


def perturbed(dec, sigma: float, seed: int):
    """A copy of the decoder whose conv weights (all but the first, which reads
    the latent) are scaled by (1 + sigma * N(0, 1)), elementwise and seeded:
    a decoder of the same architecture with a different fingerprint, so the
    classifier learns the family rather than TAEF2's exact spectral peaks."""
    import copy
    d = copy.deepcopy(dec)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in d.named_parameters():
            if p.dim() == 4 and not name.startswith("1."):
                p.mul_(1 + sigma * torch.randn(p.shape, generator=g))
    return d.eval()


def is_gray(a):
    return bool((a[:, :, 0] == a[:, :, 1]).all() and (a[:, :, 1] == a[:, :, 2]).all())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--weights", default=DEFAULT_W)
    ap.add_argument("--out", default=None)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--per-color", type=int, default=3, help="crops per colour image")
    ap.add_argument("--per-gray", type=int, default=1, help="crops per grayscale image")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--prescale", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="first downscale each source photo by a seeded factor in [LO, HI] (PIL box filter, "
                         "antialiased), so the real half carries no JPEG block grid or demosaicing pattern "
                         "from its source; the TAEF2 half is made from that clean crop")
    ap.add_argument("--perturb", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="decode each pair with its own perturbed TAEF2 decoder: conv weights scaled by "
                         "(1 + sigma * N(0,1)), sigma seeded uniform in [LO, HI] (0.03-0.12 keeps ~30 dB)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    enc, dec = load_taef2(a.weights)
    if a.check:
        import csv
        rows = list(csv.DictReader(open(os.path.join(a.data, "aligned_taef2.csv"))))[:3]
        for r in rows:
            src = C.decode_rgb(os.path.join(a.data, "real", "aligned_taef2_src", r["stem"] + ".png"))
            ref = np.asarray(Image.open(os.path.join(a.data, "fake", "aligned_taef2", r["stem"] + ".png")).convert("RGB"))
            out = reconstruct(enc, dec, src, is_gray(src))
            if out.ndim == 2:
                out = np.repeat(out[:, :, None], 3, 2)
            d = np.abs(out.astype(int) - ref.astype(int))
            print(r["stem"], "max|diff|", d.max(), "frac!=", (d > 0).mean())
        return
    rows = C.load_manifest(a.data)
    train = [r for r in rows if r["y"] == 0 and r["source"] != "aligned_taef2_src" and C.assign_split(r) == "train"]
    os.makedirs(os.path.join(a.out, "real"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "fake"), exist_ok=True)
    rng = random.Random(a.seed)
    t0 = time.time()
    n = 0
    s = a.size
    for r in sorted(train, key=lambda r: r["path"]):
        im = C.decode_rgb(os.path.join(a.data, r["path"]))
        tag = ""
        if a.prescale:
            f = rng.uniform(*a.prescale)
            h0, w0 = im.shape[:2]
            im = np.asarray(Image.fromarray(im).resize((int(round(w0 * f)), int(round(h0 * f))), Image.BOX))
            tag = f"__s{int(round(f * 100))}"
        h, w = im.shape[:2]
        if min(h, w) < s:
            continue
        gray = is_gray(im)
        k = a.per_gray if gray else a.per_color
        for j in range(k):
            x = rng.randrange(0, (w - s) // 16 + 1) * 16
            y = rng.randrange(0, (h - s) // 16 + 1) * 16
            stem = f"{r['source']}__{os.path.basename(r['path']).rsplit('.', 1)[0]}{tag}__{x}_{y}"
            fo = os.path.join(a.out, "fake", stem + ".png")
            if os.path.exists(fo):
                continue
            crop = np.ascontiguousarray(im[y:y + s, x:x + s])
            d = dec
            if a.perturb:
                d = perturbed(dec, rng.uniform(*a.perturb), rng.randrange(2 ** 31))
            rec = reconstruct(enc, d, crop, gray)
            Image.fromarray(crop[:, :, 0] if gray else crop).save(os.path.join(a.out, "real", stem + ".png"))
            Image.fromarray(rec).save(fo + ".tmp.png")
            os.replace(fo + ".tmp.png", fo)
            n += 1
            if n % 10 == 0:
                print(f"{n} pairs, {(time.time()-t0)/n:.2f}s/pair", flush=True)
    print(f"done: {n} pairs in {time.time()-t0:.0f}s")


if __name__ == "__main__":
    main()
