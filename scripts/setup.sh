#!/usr/bin/env bash
# Install what hallmark's tests and classifier need beyond the Rust toolchain:
# ONNX Runtime (the shared library `detect` loads at run time) and the `onnx`
# package the tests use to build tiny models. Idempotent; quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import onnxruntime, onnx, numpy' >/dev/null 2>&1; then
    echo "setup: installing Python packages from scripts/requirements.txt" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi
"$PY" - <<'PYEOF'
import glob, os, onnxruntime
libs = glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*"))
print("setup: ONNX Runtime", onnxruntime.__version__, "at", libs[0] if libs else "(library not found!)")
PYEOF
