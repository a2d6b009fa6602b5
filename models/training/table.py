"""Print the held-out numbers of a card (or metrics.json) as Markdown.

  python models/training/table.py models/hallmark-cls.card.json
"""
import json
import sys

d = json.load(open(sys.argv[1]))
ev = d.get("evaluation", d)
th = ev.get("thresholds_from_calib") or d.get("thresholds")
print(f"T_ai / T_real below = thresholds fitted on the calib split: ai >= {th['ai']:.3f}, real <= {th['real']:.3f}"
      f" (shipped card thresholds: {d.get('thresholds')})\n")
print("| held-out source | n | AUC native | AUC JPEG q75 | AUC 0.5x | TPR at T_ai native | q75 | 0.5x | labelled real (native) |")
print("|---|---|---|---|---|---|---|---|---|")
C = ev["conditions"]
for s in list(C["native"]["per_source"]) + ["unseen_decoder", "all_heldout"]:
    def g(c, k):
        v = C[c]["per_source"].get(s) if s in C[c]["per_source"] else C[c].get(s)
        return v[k] if v else float("nan")
    n = (C["native"]["per_source"].get(s) or C["native"].get(s))["n"]
    lab = (C["native"]["per_source"].get(s) or {}).get("labels", {}).get("real", float("nan"))
    print(f"| {s} | {n} | {g('native','auc'):.2f} | {g('jpeg75','auc'):.2f} | {g('half','auc'):.2f} | "
          f"{g('native','tpr_at_T_ai'):.2f} | {g('jpeg75','tpr_at_T_ai'):.2f} | {g('half','tpr_at_T_ai'):.2f} | {lab:.2f} |")
print()
for c in ("native", "jpeg75", "half"):
    r = C[c]
    print(f"- real photos ({c}, n={r['n_real_photos']}): FPR at T_ai {r['real_photo_fpr_at_T_ai']:.2f}; "
          f"labels {', '.join(f'{k} {v:.2f}' for k, v in r['real_photo_labels'].items())}; "
          f"seen generators (held-out images) AUC {r['seen_generators_heldout_images']['auc_vs_test_reals']:.2f}")
npd = ev["non_photos"]
print(f"- non-photos (n={npd['n']}): FPR at T_ai {npd['fpr_at_T_ai']:.2f}; labels "
      f"{', '.join(f'{k} {v:.2f}' for k, v in npd['labels'].items())}; flagged: {', '.join(npd['flagged_ai']) or 'none'}")
print("- real test sources, FPR at T_ai (native): " + ", ".join(
    f"{k} {v['fpr_at_T_ai']:.2f} (n={v['n']})" for k, v in ev["real_sources_native"].items()))
