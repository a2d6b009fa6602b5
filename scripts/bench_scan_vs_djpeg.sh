#!/usr/bin/env bash
# CPU cost of `hallmark scan --no-classifier` against the bare
# libjpeg-turbo decode (`djpeg`, Debian package libjpeg-turbo-progs) of the
# same JPEG files, measured side by side in one run, one job each.
#
#   bash scripts/bench_scan_vs_djpeg.sh [N] [SRC_DIR]
#
# Makes N (default 6) JPEGs (q90) at 1920x1080 and at 4000x3000 (12 MP)
# in $TMPDIR/hallmark-scan-vs-djpeg (kept for later runs, never committed):
# each a mosaic of photos of SRC_DIR (default ../shared/data/cls/real) at
# their own resolution, side by side without resampling (the pool holds
# crops smaller than these sizes, and an upscaled photo carries the
# resampler's periodic trace, which no camera photo has), assembled with
# Pillow. Then prints per set: user+system CPU seconds of djpeg over all
# files, of the scan over the same files, and their ratio.
# Uses $CARGO_TARGET_DIR/debug/hallmark (default target/; run `cargo build
# --bin hallmark` first).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-6}
SRC=${2:-../shared/data/cls/real}
BIN=${CARGO_TARGET_DIR:-target}/debug/hallmark
DIR=${TMPDIR:-/tmp}/hallmark-scan-vs-djpeg
command -v djpeg >/dev/null || { echo "djpeg not found (apt-get install libjpeg-turbo-progs)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "$BIN missing: cargo build --bin hallmark" >&2; exit 2; }
python3 - "$SRC" "$DIR" "$N" <<'PY'
import os, sys
from PIL import Image
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs
               if f.lower().endswith((".jpg", ".jpeg", ".png")) and "nonphoto" not in d)
if not files:
    sys.exit(f"no photos under {src}")
k = 0
for name, (w, h) in (("1080p", (1920, 1080)), ("12mp", (4000, 3000))):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    if len(os.listdir(d)) >= n:
        continue
    for i in range(n):
        canvas = Image.new("RGB", (w, h))
        y = 0
        while y < h:
            x, row_h = 0, 0
            while x < w:
                im = Image.open(files[k % len(files)]).convert("RGB")
                k += 7
                tile = im.crop((0, 0, min(im.width, w - x), min(im.height, h - y)))
                canvas.paste(tile, (x, y))
                x += tile.width
                row_h = max(row_h, tile.height)
            y += row_h
        canvas.save(os.path.join(d, f"{i:03d}.jpg"), quality=90)
PY
cpu() { # CPU seconds (user+sys) of the command, its children included
  /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'
}
echo "| set | files | djpeg CPU s | scan --no-classifier CPU s | ratio |"
echo "|---|---|---|---|---|"
for name in 1080p 12mp; do
  d="$DIR/$name"
  dj=$(cpu bash -c "for f in $d/*.jpg; do djpeg \"\$f\" > /dev/null; done")
  sc=$(cpu "$BIN" scan --no-classifier --jobs 1 --quiet "$d")
  awk -v n="$name" -v k="$(ls "$d" | wc -l)" -v a="$dj" -v b="$sc" \
    'BEGIN { printf "| %s | %d | %.2f | %.2f | %.1fx |\n", n, k, a, b, b / a }'
done
