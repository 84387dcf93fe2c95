#!/usr/bin/env bash
# test.sh: builds rlc (installing missing packages) and runs the whole test
# suite under ctest. Tests that need a GPU report themselves as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
