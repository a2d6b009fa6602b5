"""Markdown tables of a v1 evaluation (the card's `evaluation`, or fuse.py --report).

  python models/training/v1_table.py models/hallmark-v1.card.json
"""
from __future__ import annotations

import json
import sys


def main():
    d = json.load(open(sys.argv[1]))
    ev = d.get("evaluation", d)
    if "canon" not in ev:  # a --report file: {config: {view: summary}}
        ev = next(iter(ev.values()))
    c = ev["canon"]
    print("| view | mean per-source AUC (n>=5) | all sources | pooled AUC | TPR at T_ai | "
          "photo-like fakes | AI art | real-photo FPR | non-photo FPR | fakes labelled real |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v in ["canon", "jpeg75", "canon_subset", "half", "crop", "screen"]:
        if v not in ev:
            continue
        a = ev[v]
        n_np = a["n"]["nonphotos"]
        npf = "n/a" if n_np < 10 else f"{a['nonphoto_fpr']:.3f}"
        print(f"| {v} | {a['mean_source_auc']:.3f} | {a['mean_source_auc_all']:.3f} | {a['pooled_auc']:.3f} | "
              f"{a['tpr']:.2f} | {a['tpr_photoreal']:.2f} | {a['tpr_ai_art']:.2f} | {a['photo_fpr']:.3f} | {npf} | "
              f"{a['fakes_labelled_real']:.2f} |")
    print()
    views = [v for v in ["canon", "jpeg75", "half", "crop", "screen"] if v in ev]
    print("| fake source | n | " + " | ".join(f"AUC {v}" for v in views) + " | TPR at T_ai | labelled real |")
    print("|---|---|" + "---|" * len(views) + "---|---|")
    for s, r in sorted(c["per_source"].items(), key=lambda kv: -kv[1]["n"]):
        aucs = " | ".join(f"{ev[v]['per_source'].get(s, {}).get('auc', float('nan')):.2f}" for v in views)
        print(f"| {s} | {r['n']} | {aucs} | {r['tpr']:.2f} | {r['labelled_real']:.2f} |")
    print()
    print("| real source | n | FPR at T_ai |")
    print("|---|---|---|")
    for s, r in sorted(c["per_real_source"].items(), key=lambda kv: -kv[1]["n"]):
        print(f"| {s} | {r['n']} | {r['fpr']:.3f} |")
    print()
    print("| non-photo source | n | FPR at T_ai | called non-photo by the domain head |")
    print("|---|---|---|---|")
    for s, r in sorted(c.get("per_nonphoto_source", {}).items(), key=lambda kv: -kv[1]["n"]):
        print(f"| {s} | {r['n']} | {r['fpr']:.3f} | {r['called_nonphoto']:.2f} |")


if __name__ == "__main__":
    main()
