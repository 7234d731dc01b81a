#!/usr/bin/env bash
# Tests and builds kubectl-pgmigrate: build.sh OUTPUT. The Maven build runs it before the
# integration tests (operator/pom.xml, execution kubectl-pgmigrate); the first run fetches the
# modules from the Go module proxy (GOFLAGS=-mod=mod: go.sum pins them), later runs need no
# network. Go from PATH, else /usr/local/go/bin.
set -euo pipefail
out="${1:?usage: build.sh OUTPUT}"
cd "$(dirname "$0")"
go=go
command -v go >/dev/null || go=/usr/local/go/bin/go
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0
"$go" vet .
"$go" test .
"$go" build -trimpath -ldflags "-s -w" -o "$out.tmp" .
mv "$out.tmp" "$out"
echo "kubectl-pgmigrate built: $out"
