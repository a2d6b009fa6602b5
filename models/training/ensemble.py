"""Mean-logit ensemble (seeds, or a mix of inputs) of finished train.py /
train_image.py runs: one checkpoint whose forward is the mean of the members'
logits, and its scores.json (the mean of the members' image scores, exact for
mean_logit aggregation).

  python models/training/ensemble.py --runs runs/fft_c runs/fft_c_s1 runs/fft_c_s2 --out runs/fft_c_ens
"""
from __future__ import annotations

import argparse
import json
import os

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cks = [torch.load(os.path.join(r, "model.pt"), map_location="cpu", weights_only=False) for r in a.runs]
    args = dict(cks[0]["args"])
    args["seed"] = [c["args"]["seed"] for c in cks]
    args["out"] = a.out
    args["ensemble_of"] = list(a.runs)
    arch = sorted({c["arch"] for c in cks})
    torch.save({"arch": "ensemble", "members": [{"arch": c["arch"], "state_dict": c["state_dict"], "args": c["args"]} for c in cks],
                "member_arch": "+".join(arch), "args": args}, os.path.join(a.out, "model.pt"))
    ss = [json.load(open(os.path.join(r, "scores.json"))) for r in a.runs]
    meta = ss[0]["meta"]
    scores = {}
    for cond in ss[0]["scores"]:
        scores[cond] = {}
        for p in ss[0]["scores"][cond]:
            v = [s["scores"][cond][p] for s in ss]
            scores[cond][p] = None if any(x is None for x in v) else sum(v) / len(v)
    json.dump({"meta": meta, "scores": scores}, open(os.path.join(a.out, "scores.json"), "w"))
    print("wrote", a.out, "members", a.runs)


if __name__ == "__main__":
    main()
