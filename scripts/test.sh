#!/usr/bin/env bash
# The whole test suite: install test prerequisites, enforce the lints
# (rustfmt, clippy with warnings denied, rustdoc with warnings denied, the
# lean no-default-features core), then build once (the dev profile,
# optimised; see Cargo.toml) and run every test. Arguments go to
# `cargo test`. Each step prints its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
    local name=$1 t0=$SECONDS
    shift
    echo "test.sh: $name" >&2
    "$@"
    echo "test.sh: $name done in $((SECONDS - t0)) s" >&2
}

# The Python package's virtualenv (made by setup.sh); PyO3 is configured
# for its Python, as an extension module, the same way in every step.
export HALLMARK_PYENV=${HALLMARK_PYENV:-$PWD/target/pyenv}
export PYO3_BUILD_EXTENSION_MODULE=1 PYO3_PYTHON=$HALLMARK_PYENV/bin/python
bash scripts/setup.sh
# Debian packages the tests use: Chromium and its WebDriver (tests/serve_browser.rs);
# exiftool, the independent XMP reader of the AI-label tests (tests/aigc_roundtrip.rs).
bash scripts/apt_install.sh chromium chromium-driver libimage-exiftool-perl
step "cargo fmt --check" cargo fmt --all --check
# With the Python binding (python/, not a default member): one invocation,
# so features resolve once for both.
step "clippy (warnings denied)" cargo clippy --workspace --all-targets --quiet -- -D warnings
step "lean core (--no-default-features)" cargo check --lib --no-default-features --quiet
step "rustdoc (warnings denied)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
# A throwaway PostgreSQL for the registry tests (stopped on exit).
source scripts/postgres.sh
pg_start
step "cargo test" cargo test --all-targets "$@"
# The Python package: the binding against the CLI, and the Ray Data job on a
# local two-worker cluster with a local S3 server.
step "python package (binding, Ray, S3)" bash scripts/test_python.sh
# A bounded fuzz pass over the container walkers, metadata reader, XMP
# rewriter and C2PA reading path (tests/fuzz.rs; 3 s inside `cargo test`).
step "fuzz pass (20 s)" env HALLMARK_FUZZ_SECONDS=20 cargo test --quiet --test fuzz
