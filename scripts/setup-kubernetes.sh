#!/usr/bin/env bash
# Installs kustomize, which renders deploy/kubernetes for tests/kubernetes.rs,
# idempotently, from the Go module proxy (needs Go). Prints its path last.
set -euo pipefail
VERSION=v5.5.0
if ! command -v go >/dev/null 2>&1; then
    echo "setup-kubernetes: go not found; install Go (https://go.dev/dl) to render deploy/kubernetes" >&2
    exit 1
fi
BIN="$(go env GOPATH)/bin/kustomize"
# A `go install` build reports its version through `go version -m`.
if ! { [ -x "$BIN" ] && go version -m "$BIN" 2>/dev/null | grep -q "kustomize/v5[[:space:]]*$VERSION"; }; then
    echo "setup-kubernetes: installing kustomize $VERSION (once)" >&2
    go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >&2
fi
echo "$BIN"
