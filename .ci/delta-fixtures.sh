#!/usr/bin/env bash
# CI step of its own: the lake's Delta log reader against the reference tables in
# ../shared/fixtures/delta (read in place, copied to temp folders per test; nothing enters the repo).
# Needs the test venv (delta-rs as the oracle), which the services harness installs and caches.
set -euo pipefail
cd "$(dirname "$0")/.."
export ECHOLAKE_DELTA_FIXTURES="${ECHOLAKE_DELTA_FIXTURES:-$(cd .. && pwd)/shared/fixtures/delta}"
node --import tsx test/services/cli.ts install
ECHOLAKE_TEST_PYTHON="${ECHOLAKE_TEST_PYTHON:-${ECHOLAKE_CACHE:-$HOME/.cache/echolake}/venv/bin/python}" \
  node --import tsx --test test/conformance/delta-fixtures.test.ts
