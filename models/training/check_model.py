"""Check a shipped model against its card and golden file (no torch needed).

  python models/training/check_model.py            # models/default.json
  python models/training/check_model.py IMAGE...   # also score images like `hallmark detect`

Needs numpy, pillow, onnxruntime.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, ".."))


def load(models=MODELS):
    import onnxruntime as ort
    card_name = json.load(open(os.path.join(models, "default.json")))["card"]
    card = json.load(open(os.path.join(models, card_name)))
    path = os.path.join(models, card["file"])
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert sha == card["sha256"], f"sha256 mismatch: {sha} != {card['sha256']}"
    assert card["crop"]["size"] == C.CROP and card["crop"]["max_crops"] == C.MAX_CROPS
    assert card["crop"]["min_side"] == C.MIN_SIDE
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return card, sess


def score(card, sess, path):
    return {"file": path, **score_image(card, sess, C.decode_rgb(path))}


def score_image(card, sess, img):
    """Score a decoded HxWx3 uint8 image as `hallmark detect` does."""
    crops, offs = C.image_crops(img)
    if crops is None:
        return {"score": None, "label": "inconclusive", "crops": 0}
    lg = sess.run([card["output"]["name"]], {card["input"]["name"]: C.preprocess(crops)})[0].reshape(-1)
    agg = C.aggregate(lg, card["aggregation"])
    p = float(C.sigmoid(card["calibration"]["a"] * agg + card["calibration"]["b"]))
    t = card["thresholds"]
    lab = "ai" if p >= t["ai"] else ("real" if p <= t["real"] else "inconclusive")
    return {"score": p, "label": lab, "crops": len(offs), "offsets": offs, "logits": lg.tolist()}


def main():
    card, sess = load()
    g = json.load(open(os.path.join(HERE, "golden.json")))
    assert g["model_sha256"] == card["sha256"], "golden.json is for another model"
    worst = 0.0
    for e in g["cases"]:
        r = score(card, sess, os.path.join(HERE, e["file"]))
        assert r["label"] == e["label"], (e["file"], r["label"], e["label"])
        if e["crops"]:
            assert [list(o) for o in r["offsets"]] == e["crops"], e["file"]
            worst = max(worst, abs(r["score"] - e["p_ai"]),
                        max(abs(a - b) for a, b in zip(r["logits"], e["logits"])))
    assert worst <= g["tolerance"], worst
    print(f"ok: {card['name']} {card['sha256'][:12]} golden max diff {worst:.2e}")
    for p in sys.argv[1:]:
        r = score(card, sess, p)
        print(json.dumps({k: r[k] for k in ("file", "score", "label", "crops")}))


if __name__ == "__main__":
    main()
