#!/usr/bin/env bash
# Remake samples/ (one file per kind of verdict) from permissively licensed
# images with hallmark's own commands; see samples/README.md for sources.
# Makes a throwaway demo signing key (secret keys never enter the repo) and
# puts its CA certificate in keys/ (the default trust folder), replacing the
# previous one. Usage: bash scripts/make_samples.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/cls}
if [ -n "${HALLMARK:-}" ]; then H=("$HALLMARK"); else cargo build -q; H=(target/debug/hallmark); fi
[ -x "${H[0]}" ] || H=(cargo run -q --)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"${H[@]}" keygen --name hallmark-demo --out "$tmp/keys" >/dev/null
cp "$tmp/keys/hallmark-demo-ca.crt" keys/hallmark-demo-ca.crt
KEY="$tmp/keys/hallmark-demo.key"
rm -f samples/*.jpg samples/*.png samples/*.c2pa

# 1. AI image with a signed C2PA manifest (Kandinsky 3 output, Apache-2.0).
"${H[@]}" sign "$DATA/fake/kandinsky3/assets__photo_13.jpg" -o samples/ai-signed.jpg --key "$KEY" \
    --ai-generated --author "Kandinsky 3 (demo)" --title "Generated photo" >/dev/null

# 2. AI image carrying hallmark's watermark only: credentials stripped (Kolors output, Apache-2.0).
"${H[@]}" watermark embed "$DATA/fake/kolors/controlnet__outputs__Canny_dog.jpg" -o samples/ai-watermarked.jpg \
    --payload 48414c4c4d41524b >/dev/null

# 3. Generator metadata: a Stable Diffusion 2 output (MIT) with the `parameters`
#    text chunk AUTOMATIC1111 writes (hallmark does not write generator
#    metadata, so a few lines of Python add it).
python3 - "$DATA/fake/sd2_stability_assets/assets__stable-samples__txt2img__merged-0005_panel.png" \
    samples/sd-metadata.png <<'PY'
import struct, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
text = (b"parameters\0a professional photograph of an astronaut riding a horse\n"
        b"Steps: 50, Sampler: DDIM, CFG scale: 9, Seed: 42, Size: 512x512, "
        b"Model: v2-1_512-ema-pruned, Version: v1.6.0")
chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
open(dst, "wb").write(data[:ihdr_end] + chunk + data[ihdr_end:])
PY

# 4. Camera photo signed as digitalCapture (scikit-image `rocket`, public domain, NASA).
"${H[@]}" sign "$DATA/real/skimage_sklearn/skimage_rocket.jpg" -o samples/camera-signed.jpg --key "$KEY" \
    --source-type digitalCapture --author "NASA (demo)" --title "Rocket launch" >/dev/null

# 5. The same signed photo with pixels changed after signing: provenance broken.
python3 - samples/camera-signed.jpg samples/camera-tampered.jpg <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
sos = data.rfind(b"\xff\xda")          # start of the last scan
for i in range(sos + 400, sos + 420):  # overwrite a few entropy-coded bytes
    if data[i] != 0xFF and data[i - 1] != 0xFF:
        data[i] ^= 0x10
open(sys.argv[2], "wb").write(bytes(data))
PY

# 6. An unlabelled photo: no manifest, no watermark, no metadata
#    (scikit-image `chelsea`, CC0).
cp "$DATA/real/skimage_sklearn/skimage_chelsea.png" samples/unlabelled.png
chmod 644 samples/*

du -ch samples/*.jpg samples/*.png | tail -1
"${H[@]}" check samples/
