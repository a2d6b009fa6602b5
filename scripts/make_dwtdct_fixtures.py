#!/usr/bin/env python3
"""Make the invisible-watermark (dwtDct) test fixtures in tests/fixtures/dwtdct/.

Marks small crops of permissively licensed photos with the Python package
`invisible-watermark` (module `imwatermark`, `pip install invisible-watermark`)
exactly as the Stable Diffusion generators do, so the Rust detector
(src/watermark/dwtdct.rs) is tested against the reference implementation:

* `*_sd1.png`:  CompVis/stable-diffusion scripts/txt2img.py `put_watermark`:
  bytes of "StableDiffusionV1" (136 bits), RGB uint8 -> BGR, encode 'dwtDct'.
* `*_sd2.png`:  Stability-AI/stablediffusion scripts/txt2img.py: bytes of "SDV2"
  (32 bits), same path as SD1.
* `*_sdxl.png`: diffusers StableDiffusionXLWatermarker.apply_watermark: the
  48 bits of WATERMARK_MESSAGE, encoded on a *float32 RGB* array (diffusers
  passes RGB where imwatermark expects BGR, and floats where OpenCV's YUV
  offset is 0.5 instead of 128), then clamped and rounded to uint8 as the
  pipeline's image processor does.
* `*_q90.jpg`: each marked PNG re-encoded as JPEG quality 90 (PIL, 4:2:0).

Sources (center 256x256 crops; imwatermark refuses images under 256x256):
* kodim23 (Kodak PhotoCD set, released by Kodak for unrestricted use), from
  ../shared/data/cls/real/ircnn_set24_kodak/testsets__Set24__kodim23.png
* coffee (scikit-image `skimage/data/coffee.png`, CC0), from
  ../shared/data/cls/real/skimage_sklearn/skimage_coffee.png

Run from the repository root: python3 scripts/make_dwtdct_fixtures.py
Outputs are deterministic (the package has no randomness for dwtDct).
"""

import json
import os
import sys

import cv2
import numpy as np
from imwatermark import WatermarkDecoder, WatermarkEncoder
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ../shared/data/cls from the main checkout; worktrees sit one level deeper.
DATA = os.environ.get("HALLMARK_CLS_DATA") or next(
    (p for p in (os.path.join(ROOT, *[".."] * n, "shared", "data", "cls") for n in (1, 2)) if os.path.isdir(p)),
    os.path.join(ROOT, "..", "shared", "data", "cls"),
)
OUT = os.path.join(ROOT, "tests", "fixtures", "dwtdct")

SOURCES = {
    "kodim23": "real/ircnn_set24_kodak/testsets__Set24__kodim23.png",
    "coffee": "real/skimage_sklearn/skimage_coffee.png",
}
SIZE = 256

SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
SDXL_BITS = [int(b) for b in bin(SDXL_MESSAGE)[2:]]


def crop(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    x, y = (w - SIZE) // 2, (h - SIZE) // 2
    return np.array(img.crop((x, y, x + SIZE, y + SIZE)))


def mark_reference(rgb, text):
    """CompVis / Stability SD1-SD2 put_watermark."""
    enc = WatermarkEncoder()
    enc.set_watermark("bytes", text.encode("utf-8"))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    bgr = enc.encode(bgr, "dwtDct")
    return bgr[:, :, ::-1].copy()


def mark_diffusers_sdxl(rgb):
    """diffusers StableDiffusionXLWatermarker on one image, then to uint8."""
    enc = WatermarkEncoder()
    enc.set_watermark("bits", SDXL_BITS)
    img = rgb.astype(np.float32)  # 255 * (x / 2 + 0.5), channels last, RGB
    img = enc.encode(img, "dwtDct")
    img = np.clip(2 * (img / 255 - 0.5), -1.0, 1.0)  # torch.clamp(...)
    img = np.clip(img / 2 + 0.5, 0, 1)  # image processor: denormalize
    return (img * 255).round().astype(np.uint8)  # numpy_to_pil


def reference_decode(rgb, nbits, swap=False):
    """What the package's own decoder reads (BGR uint8 input)."""
    dec = WatermarkDecoder("bits", nbits)
    bgr = rgb if swap else rgb[:, :, ::-1]
    return [int(b) for b in dec.decode(np.ascontiguousarray(bgr), "dwtDct")]


def python_bits(path, nbits):
    """The package's own hard decoding of a fixture under each input convention:
    bgr-u8 (correct use), rgb-u8 (RGB handed over as BGR), bgr-f32, rgb-f32 (diffusers)."""
    rgb = np.array(Image.open(path).convert("RGB"))
    out = {}
    for variant, arr in (
        ("bgr-u8", rgb[:, :, ::-1]),
        ("rgb-u8", rgb),
        ("bgr-f32", rgb[:, :, ::-1].astype(np.float32)),
        ("rgb-f32", rgb.astype(np.float32)),
    ):
        bits = WatermarkDecoder("bits", nbits).decode(np.ascontiguousarray(arr), "dwtDct")
        out[variant] = "".join(str(int(b)) for b in bits)
    return out


def bits_of(text):
    return [int(b) for b in np.unpackbits(np.frombuffer(text.encode(), dtype=np.uint8))]


def main():
    os.makedirs(OUT, exist_ok=True)
    summary = {}
    expected = {}
    for name, rel in SOURCES.items():
        src = os.path.join(DATA, rel)
        if not os.path.exists(src):
            sys.exit(f"missing source image {src}")
        rgb = crop(src)
        outputs = {
            f"{name}_orig.png": (rgb, None),
            f"{name}_sd1.png": (mark_reference(rgb, "StableDiffusionV1"), bits_of("StableDiffusionV1")),
            f"{name}_sd2.png": (mark_reference(rgb, "SDV2"), bits_of("SDV2")),
            f"{name}_sdxl.png": (mark_diffusers_sdxl(rgb), SDXL_BITS),
        }
        for fname, (img, bits) in outputs.items():
            Image.fromarray(img).save(os.path.join(OUT, fname), optimize=True)
            entry = {}
            if bits is not None:
                jpg = fname.replace(".png", "_q90.jpg")
                Image.fromarray(img).save(os.path.join(OUT, jpg), quality=90)
                for label, path in ((fname, fname), (jpg, jpg)):
                    dec = np.array(Image.open(os.path.join(OUT, path)).convert("RGB"))
                    for swap in (False, True):
                        got = reference_decode(dec, len(bits), swap)
                        agree = sum(int(a == b) for a, b in zip(got, bits))
                        entry[f"{label} python-decoder{' rgb-as-bgr' if swap else ''}"] = f"{agree}/{len(bits)}"
            summary[fname] = entry
            if bits is not None:
                for f in (fname, fname.replace(".png", "_q90.jpg")):
                    expected[f] = {
                        "message_bits": "".join(str(b) for b in bits),
                        "python_decoder": python_bits(os.path.join(OUT, f), len(bits)),
                    }
    # Hard bits the reference decoder reads, so the Rust decoder can be checked
    # bit for bit against it (tests/dwtdct.rs).
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
