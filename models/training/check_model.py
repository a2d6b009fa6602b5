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


SPECTRAL = "hallmark-cls.card.json"


def load(models=MODELS, card_name=SPECTRAL):
    """The spectral (pixel) model: its card and an onnxruntime session."""
    import onnxruntime as ort
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


def check_v1(models=MODELS):
    """The fused default card: head hash, encoder hash, golden_v1.json per member."""
    import numpy as np
    import onnxruntime as ort
    import clipview as V
    import encoder as E
    name = json.load(open(os.path.join(models, "default.json")))["card"]
    card = json.load(open(os.path.join(models, name)))
    if "members" not in card:
        return
    g = json.load(open(os.path.join(HERE, "golden_v1.json")))
    assert g["card_sha256"] == hashlib.sha256(open(os.path.join(models, name), "rb").read()).hexdigest()
    clip = next(m for m in card["members"] if m["kind"] == "encoder_head")
    hb = open(os.path.join(models, clip["head"]["file"]), "rb").read()
    assert hashlib.sha256(hb).hexdigest() == clip["head"]["sha256"], "head sha256 mismatch"
    enc = E.session(E.locate())  # checks the encoder's sha256
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    head = ort.InferenceSession(hb, so, providers=["CPUExecutionProvider"])
    worst = 0.0
    for c in g["cases"]:
        if c["p_ai"] is None:
            continue
        img = C.decode_rgb(os.path.join(HERE, c["file"]))
        hid = enc.run([E.OUT_HIDDEN], {E.INPUT: V.clip_input(img)})[0]
        zc = head.run(["logit"], {"hidden": hid})[0].reshape(-1)
        worst = max(worst, float(np.abs(zc - np.array(c["clip"])).max()))
    assert worst <= g["tolerance"]["clip"], worst
    print(f"ok: {card['name']} {card['version']} golden_v1 clip max diff {worst:.2e}")


def main():
    check_v1()
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
