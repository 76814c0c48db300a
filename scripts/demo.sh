#!/usr/bin/env bash
# The README's main-job line: set-up (idempotent), then the demo on the embedded default (a local Temporal dev
# server and local registries): build a sample image, promote it in phases, verify it, stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/promoflow.js demo "$@"
