"""Markdown table of comparison.json (every compared run, held-out test split).

  python models/training/compare.py models/training/comparison.json
"""
import json
import sys

d = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "models/training/comparison.json"))
print("| run | input | calib AUC | held-out AUC | unseen-decoder AUC | PNG fakes | JPEG fakes | after JPEG q75 | after 0.5x "
      "| TPR at test 5% FPR (oracle) | TPR at calib T_ai | real-photo FPR at calib T_ai | non-photo FPR |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for k, r in d.items():
    n, j, h = (r["conditions"][c] for c in ("native", "jpeg75", "half"))
    bf = n.get("heldout_fakes_by_format", {})
    f = lambda x: f"{x:.2f}"
    print(f"| {k} | {r['arch']} | {f(r['calibration']['calib_auc'])} | {f(n['all_heldout']['auc'])} | {f(n['unseen_decoder']['auc'])} | "
          f"{f(bf['PNG']['auc']) if bf else '-'} | {f(bf['JPEG']['auc']) if bf else '-'} | {f(j['all_heldout']['auc'])} | "
          f"{f(h['all_heldout']['auc'])} | {f(n['all_heldout']['tpr_at_test_5pct_fpr_oracle'])} | {f(n['all_heldout']['tpr_at_T_ai'])} | {f(n['real_photo_fpr_at_T_ai'])} | "
          f"{f(r['non_photos']['fpr_at_T_ai'])} |")
