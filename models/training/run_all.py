"""The whole pipeline, one command (CPU, seeded):

  python models/training/run_all.py --out models/ [--data ../shared/data/cls] [--work runs]

1. make_pairs.py  extra TAEF2 real/fake pairs from training-split photos
                  (256 px as-is; 192 px from downscaled photos: "clean" pairs;
                  and clean pairs decoded by perturbed TAEF2 decoders: "var")
2. nonphoto.py    the non-photo false-positive test set
3. train.py       the per-crop architectures compared
   train_image.py the image-level ones (fftavg: spectra averaged over crops)
   train_linear.py the image-level linear probe (speclin)
   ensemble.py    seed ensembles and the shipped mix (mean logit)
4. finalize.py    calibration on the calib split, held-out metrics, ONNX
                  export, model card, golden file, comparison.json
Each step skips work already done in --work (delete the folder to redo all).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402

# (run name, extra train.py args). "ship" is the exported model.
# "clean" recipe (_c runs): extra pairs made from *downscaled* training photos (make_pairs.py
# --prescale 0.5 0.75, 192 px), so neither half of a pair carries its source's JPEG grid, and
# JPEG q70-98 with p=0.7 on pairs (same draw on both halves) and other fakes, p=0.4 on other reals.
CLEAN_AUG = ["--batch-pairs", "12", "--batch-other", "6",
             "--p-jpeg-fake", "0.7", "--p-jpeg-real", "0.4", "--q-lo", "70", "--q-hi", "98"]
CLEAN = ["--extra-pairs", "{work}/pairs_clean"] + CLEAN_AUG
COMMON = ["--extra-pairs", "{work}/pairs", "--batch-pairs", "12", "--batch-other", "6"]
PAIRS_ONLY = ["--extra-pairs", "{work}/pairs", "--batch-pairs", "14", "--batch-other", "4",
              "--batch-other-fake", "0", "--reals-from", "pairs"]
RUNS = [
    # luma NPR vs luma SRM, JPEG aug p=0.5 on both classes
    ("npr_y", ["--arch", "npr_y", "--iters", "1000", "--p-jpeg-fake", "0.5", "--p-jpeg-real", "0.5"] + COMMON),
    ("srm_y", ["--arch", "srm_y", "--iters", "1000", "--p-jpeg-fake", "0.5", "--p-jpeg-real", "0.5"] + COMMON),
    # JPEG-balanced: fakes 0.8, reals 0.3 (most real photos already carry JPEG traces)
    ("npr_y_j", ["--arch", "npr_y", "--iters", "1400"] + COMMON),
    ("srm_y_j", ["--arch", "srm_y", "--iters", "1400"] + COMMON),
    # aligned pairs only (+ resampled real halves as hard negatives)
    ("npr_y_p", ["--arch", "npr_y", "--iters", "1400"] + PAIRS_ONLY),
    ("srm_y_p", ["--arch", "srm_y", "--iters", "1400"] + PAIRS_ONLY),
    # clean recipe: luma SRM, luma NPR, and the log-magnitude spectrum front end (3 seeds)
    ("srm_y_c", ["--arch", "srm_y", "--iters", "1400"] + CLEAN),
    ("npr_y_c", ["--arch", "npr_y", "--iters", "1400"] + CLEAN),
    ("fft_c", ["--arch", "fft", "--iters", "1400"] + CLEAN),
    ("fft_c_s1", ["--arch", "fft", "--iters", "1400", "--seed", "1"] + CLEAN),
    ("fft_c_s2", ["--arch", "fft", "--iters", "1400", "--seed", "2"] + CLEAN),
    # spectrum front end with the srm_y_j recipe (is it the recipe or the input?)
    ("fft_j", ["--arch", "fft", "--iters", "1400"] + COMMON),
    # clean recipe, plus as many pairs again decoded by perturbed TAEF2 decoders
    ("fft_v", ["--arch", "fft", "--iters", "1400", "--extra-pairs", "{work}/pairs_clean", "{work}/pairs_var"]
     + CLEAN_AUG),
]
# image-level runs (train_image.py; its defaults are the clean recipe with 8 pairs + 6 + 6 images per step)
IMAGE_CLEAN = ["--extra-pairs", "{work}/pairs_clean"]
IMAGE_RUNS = [
    ("fftavg_c", ["--arch", "fftavg"] + IMAGE_CLEAN),
    ("fftavg_c_s1", ["--arch", "fftavg", "--seed", "1"] + IMAGE_CLEAN),
    ("fftavglog_c", ["--arch", "fftavg_log"] + IMAGE_CLEAN),
    ("fftavglog_c_s1", ["--arch", "fftavg_log", "--seed", "1"] + IMAGE_CLEAN),
    # clean pairs + as many again decoded by perturbed TAEF2 decoders
    ("fftavg_v", ["--arch", "fftavg", "--extra-pairs", "{work}/pairs_clean", "{work}/pairs_var"]),
]
# image-level linear probe (train_linear.py; the calib split picks its L2 strength)
LINEAR_RUNS = [
    ("speclin_c", IMAGE_CLEAN),
    ("speclin_c_s1", ["--seed", "1"] + IMAGE_CLEAN),
]
# ensembles (mean logit of the members; ensemble.py)
ENSEMBLES = [
    ("fft_c_ens", ["fft_c", "fft_c_s1", "fft_c_s2"]),
    ("fftavg_c_ens", ["fftavg_c", "fftavg_c_s1"]),
    # per data recipe: the best-calib per-crop run + the best-calib image-level run
    ("mix_c", ["fft_c_s1", "fftavg_c"]),
    ("mix_v", ["fft_v", "fftavg_v"]),
    ("mix_c5", ["fft_c", "fft_c_s1", "fft_c_s2", "fftavg_c", "fftavg_c_s1"]),
    # mix_c + the linear probe (seed 0: the two probe seeds tie on calib AUC)
    ("mix_c3", ["fft_c_s1", "fftavg_c", "speclin_c"]),
]
# mix_c: of the two per-recipe mixes, the higher calib AUC (rule fixed before the mixes' test
# numbers were computed, but after the single runs' were seen); mix_c3 adds the linear probe,
# which raised the calib AUC (0.876 -> 0.903). See README.md.
SHIP = "mix_c3"
SHIP_ARGS = ["--abstain", "--version", "0.3.0"]
# extra TAEF2 pair sets (make_pairs.py arguments): as-is 256 px; "clean" 192 px from downscaled
# photos; "var": clean pairs decoded by perturbed decoders
PAIR_SETS = [
    ("pairs", ["--size", "256"]),
    ("pairs_clean", ["--size", "192", "--prescale", "0.5", "0.75", "--per-color", "4", "--per-gray", "2"]),
    ("pairs_var", ["--size", "192", "--prescale", "0.5", "0.75", "--per-color", "4", "--per-gray", "2",
                   "--seed", "1", "--perturb", "0.03", "0.12"]),
]


def sh(args):
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..")))
    ap.add_argument("--data", default=C.default_shared("data/cls"))
    ap.add_argument("--work", default="runs")
    ap.add_argument("--skip-compare", action="store_true", help="train only the shipped config")
    a = ap.parse_args()
    py = sys.executable
    w = a.work
    os.makedirs(w, exist_ok=True)
    for name, args in PAIR_SETS:
        if not os.path.exists(os.path.join(w, name, "done")):
            sh([py, os.path.join(HERE, "make_pairs.py"), "--data", a.data, "--out", os.path.join(w, name)] + args)
            open(os.path.join(w, name, "done"), "w").close()
    sh([py, os.path.join(HERE, "nonphoto.py"), "--out", os.path.join(w, "nonphoto")])
    ens = dict(ENSEMBLES)
    need = set(ens.get(SHIP, [SHIP]))
    runs = ([(r, "train.py") for r in RUNS] + [(r, "train_image.py") for r in IMAGE_RUNS]
            + [(r, "train_linear.py") for r in LINEAR_RUNS])
    runs = [(r, script) for r, script in runs if r[0] in need or not a.skip_compare]
    for (name, args), script in runs:
        out = os.path.join(w, name)
        if os.path.exists(os.path.join(out, "scores.json")):
            continue
        args = [x.replace("{work}", w) for x in args]
        sh([py, os.path.join(HERE, script), "--data", a.data, "--out", out, "--seed", "0"] + args)
    runs = [r for r, _ in runs]
    names = [n for n, _ in runs]
    for name, members in ENSEMBLES:
        if a.skip_compare and name != SHIP:
            continue
        sh([py, os.path.join(HERE, "ensemble.py"), "--out", os.path.join(w, name), "--runs"] + [os.path.join(w, m) for m in members])
        names.append(name)
    sh([py, os.path.join(HERE, "finalize.py"), "--data", a.data, "--nonphoto", os.path.join(w, "nonphoto"),
        "--out", a.out, "--runs"] + [os.path.join(w, n) for n in names] + ["--ship", os.path.join(w, SHIP)] + SHIP_ARGS)


if __name__ == "__main__":
    main()
