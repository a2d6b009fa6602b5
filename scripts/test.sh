#!/usr/bin/env bash
# The whole test suite: install test prerequisites, then build once (the dev
# profile, optimised; see Cargo.toml) and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --all-targets "$@"
