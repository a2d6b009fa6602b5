#!/usr/bin/env bash
# Rebuild assets/fonts/NotoSansCJKsc-Bold-subset.otf, the font the visible
# AI label (`hallmark sign --visible-label`) is drawn with: Noto Sans CJK SC
# Bold (SIL OFL 1.1, from Debian's fonts-noto-cjk), subset to printable
# ASCII and the Chinese characters of the usual label texts, so the repo
# carries ~20 KB instead of a 20 MB collection. Needs fonttools (pip) and
# fonts-noto-cjk (apt); run only when the character set changes, and keep
# LABEL_CHARS in src/label/font.rs in step with CJK below.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${NOTO_CJK_BOLD:-/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc}
OUT=assets/fonts/NotoSansCJKsc-Bold-subset.otf
if [ ! -f "$SRC" ]; then
    echo "subset_font: $SRC missing; apt-get install fonts-noto-cjk" >&2
    exit 2
fi
if ! python3 -c 'import fontTools' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check fonttools
fi
# The label texts GB 45438-2025 and platforms use, and what they are made of.
CJK="AI生成人工智能合成内容由本图片视频音频文本疑似可能深度伪造标识使用技术"
CJK_PUNCT="，。：；！？（）「」、·"
TEXT=$(printf '%s%s' "$CJK" "$CJK_PUNCT")
# Font index 2 of the collection is the Simplified Chinese face.
python3 -m fontTools.subset "$SRC" --font-number=2 \
    --unicodes="U+0020-007E" --text="$TEXT" \
    --layout-features='' --no-hinting --desubroutinize \
    --name-IDs='*' --name-languages='*' --notdef-outline \
    --output-file="$OUT"
echo "subset_font: wrote $OUT ($(stat -c %s "$OUT") bytes)" >&2
