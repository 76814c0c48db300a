#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (idempotent), type-check, lint, unit and integration tests.
# This is the README's test line and exactly what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --interop
echo "== type-check"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint --max-warnings=0 .
servers() { pgrep -f 'docker-registry serve .*promoflow-test|referrers-registry-[0-9a-f]+ .*promoflow-test|temporal server start-dev .*promoflow-test' | sort || true; }
before=$(servers)
echo "== tests"; node scripts/run-tests.mjs all
echo "== leftover processes"
# Only servers started by this run count (a developer may have others running).
left=$(comm -13 <(echo "$before") <(servers) | grep -v '^$' || true)
if [ -n "$left" ]; then
  echo "a temporal or registry process outlived the tests:" >&2
  for p in $left; do ps -o pid=,args= -p "$p" >&2 || true; done
  exit 1
fi
echo "none"
