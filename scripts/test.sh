#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (idempotent), type-check, lint, unit and integration tests.
# This is the README's test line and exactly what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --interop
echo "== type-check"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint --max-warnings=0 .
echo "== tests"; node scripts/run-tests.mjs all
echo "== leftover processes"
if pgrep -f 'docker-registry serve .*promoflow-test' >/dev/null || pgrep -f 'temporal server start-dev .*promoflow-test' >/dev/null; then
  echo "a temporal or docker-registry process outlived the tests:" >&2
  pgrep -af 'docker-registry serve|temporal server start-dev' >&2 || true
  exit 1
fi
echo "none"
