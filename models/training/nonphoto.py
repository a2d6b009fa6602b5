"""Human-made non-photo test images (for the false-positive check).

Two parts, neither committed (regenerated / found locally):
 1. synthetic "digital art" drawn with PIL, seeded: flat vector shapes,
    gradients with text, a brush-stroke painting, a chart; PNG and JPEG q90;
 2. screenshots, diagrams, charts and logos shipped as documentation images on
    this machine (Rust toolchain docs, pyenv), if present.
Plus cset14 comic and ppt3 from the data pool (listed in common.NON_PHOTO).

  python models/training/nonphoto.py --out runs/nonphoto
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DOC_GLOBS = [
    "/root/.rustup/toolchains/stable-*/share/doc/rust/html/rustc/images/*.png",
    "/root/.rustup/toolchains/stable-*/share/doc/rust/html/book/img/trpl14-0*.png",
    "/root/.rustup/toolchains/stable-*/share/doc/rust/html/embedded-book/assets/nrf52-*.png",
    "/root/.rustup/toolchains/stable-*/share/doc/rust/html/cargo/images/*.png",
    "/root/.rustup/toolchains/stable-*/share/doc/rust/html/rustdoc/images/*.png",
    "/root/.cargo/registry/src/*/ed25519-dalek-2.2.0/docs/assets/*.png",
    "/root/.pyenv/terminal_output.png",
    "/root/.pyenv/versions/3.11*/lib/python3.11/idlelib/Icons/idle_256.png",
]


def font(size):
    for p in ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]:
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def rcol(rng):
    return tuple(rng.randrange(256) for _ in range(3))


def flat_shapes(rng, w, h):
    im = Image.new("RGB", (w * 2, h * 2), rcol(rng))
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(8, 25)):
        x0, y0 = rng.randrange(w * 2), rng.randrange(h * 2)
        x1, y1 = x0 + rng.randint(20, w), y0 + rng.randint(20, h)
        k = rng.random()
        if k < 0.4:
            d.ellipse([x0, y0, x1, y1], fill=rcol(rng))
        elif k < 0.8:
            d.rectangle([x0, y0, x1, y1], fill=rcol(rng), outline=rcol(rng), width=rng.randint(0, 8))
        else:
            d.polygon([(rng.randrange(w * 2), rng.randrange(h * 2)) for _ in range(3)], fill=rcol(rng))
    return im.resize((w, h), Image.LANCZOS)  # supersampled anti-aliasing, like vector renderers


def gradient_text(rng, w, h):
    a, b = np.array(rcol(rng), float), np.array(rcol(rng), float)
    t = np.linspace(0, 1, w)[None, :, None] * 0.6 + np.linspace(0, 1, h)[:, None, None] * 0.4
    im = Image.fromarray((a * (1 - t) + b * t).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for i in range(rng.randint(3, 8)):
        d.text((rng.randrange(w // 2), rng.randrange(h - 40)), rng.choice(
            ["Quarterly report", "Hello, world", "SALE -50%", "hallmark", "Agenda", "Chapter 3"]),
            fill=rcol(rng), font=font(rng.randint(18, 64)))
    return im


def painting(rng, w, h):
    im = Image.new("RGB", (w, h), rcol(rng))
    d = ImageDraw.Draw(im)
    for _ in range(400):
        x, y = rng.randrange(w), rng.randrange(h)
        ang = rng.random() * math.pi
        L = rng.randint(10, 60)
        c = rcol(rng)
        d.line([(x, y), (x + L * math.cos(ang), y + L * math.sin(ang))], fill=c, width=rng.randint(3, 14))
    return im.filter(ImageFilter.GaussianBlur(1.2))


def chart(rng, w, h):
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    n = rng.randint(5, 12)
    bw = (w - 80) // n
    for i in range(n):
        v = rng.randint(20, h - 80)
        d.rectangle([60 + i * bw, h - 40 - v, 60 + i * bw + bw - 6, h - 40], fill=rcol(rng))
    d.line([(55, 10), (55, h - 40), (w - 10, h - 40)], fill=(0, 0, 0), width=2)
    d.text((60, 12), "Figure 1: results", fill=(0, 0, 0), font=font(22))
    return im


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    made = []
    for i in range(4):
        for name, fn in [("shapes", flat_shapes), ("gradtext", gradient_text), ("painting", painting), ("chart", chart)]:
            w, h = rng.choice([(640, 480), (800, 600), (512, 512), (1024, 768)])
            im = fn(rng, w, h)
            p = os.path.join(a.out, f"synth_{name}_{i}.png" if i % 2 == 0 else f"synth_{name}_{i}.jpg")
            if p.endswith(".jpg"):
                im.save(p, quality=90)
            else:
                im.save(p)
            made.append(p)
    seen = set()
    for g in DOC_GLOBS:
        for p in sorted(glob.glob(g)):
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
            if h in seen:
                continue
            seen.add(h)
            try:
                im = Image.open(p)
                if min(im.size) < 128:
                    continue
            except Exception:
                continue
            dst = os.path.join(a.out, "doc_" + os.path.basename(p))
            if not os.path.exists(dst):
                os.symlink(p, dst)
            made.append(dst)
    print(len(made), "non-photo images in", a.out)


if __name__ == "__main__":
    main()
