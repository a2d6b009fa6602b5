#!/usr/bin/env bash
# The Python package's tests (python/tests). Builds the extension module
# in the dev profile and target/, against the library `cargo test` has
# already compiled (same features, same profile: only PyO3 and the binding
# compile here), then runs pytest in the virtualenv scripts/setup.sh makes
# (target/pyenv): the binding against the CLI, the registry on SQLite and
# PostgreSQL, and the Ray Data job on one local two-worker Ray cluster with
# a local S3-compatible server (moto). Every server the tests start is
# stopped by them. Arguments go to pytest, e.g.
#   bash scripts/test_python.sh -k ray        # the distributed tests alone
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HALLMARK_PYENV:-target/pyenv}
# scripts/setup.sh makes the virtualenv (scripts/test.sh has run it).
if ! "$VENV/bin/python" -c 'import maturin, pytest, ray.data, pyarrow.parquet, moto.server, boto3' >/dev/null 2>&1; then
    bash scripts/setup.sh
fi
# The extension module, built by cargo exactly as maturin builds it
# (PYO3_BUILD_EXTENSION_MODULE, this virtualenv's Python) but in one
# invocation with the root crate's tests: `cargo test` resolved features
# with the dev-dependencies on, and a build of the binding alone would
# resolve them without, recompiling the whole dependency tree. After
# `cargo test --all-targets` only PyO3 and the binding compile here. The
# module goes beside the Python sources (git-ignored), which the tests and
# the Ray workers import through PYTHONPATH. `maturin build` makes the
# same module into a wheel (docs/distributed.md).
export PYO3_BUILD_EXTENSION_MODULE=1 PYO3_PYTHON="$(cd "$VENV" && pwd)/bin/python"
cargo build --quiet -p hallmark -p hallmark-python --lib --tests
cp -f target/debug/libhallmark_python.so python/hallmark/_native.abi3.so
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
# The registry tests need PostgreSQL: scripts/test.sh has started one;
# alone, start a throwaway one (stopped when this script exits).
if [ -z "${HALLMARK_TEST_POSTGRES:-}" ]; then
    source scripts/postgres.sh
    pg_start
fi
export HALLMARK_BIN=target/debug/hallmark RAY_USAGE_STATS_ENABLED=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests "$@"
