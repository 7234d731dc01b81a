#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy into the layout fabric8's
# kube-api-test expects: $KUBE_API_TEST_DIR/k8s/<version>-linux-amd64/{etcd,kube-apiserver,kubectl}.
# The result is cached outside the repository; a second run with all three present does nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="k8s.io/kubernetes" {sub(/^v/, "", $2); print $2}' "$here/go.mod")"
dir="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/${version}-linux-amd64"
if [[ -x "$dir/etcd" && -x "$dir/kube-apiserver" && -x "$dir/kubectl" ]]; then
  echo "kube binaries $version already in $dir"
  exit 0
fi
mkdir -p "$dir"
cd "$here"
export CGO_ENABLED=0
# stamp the release version, as the Kubernetes release build does, so that clients see v$version
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*}"
  minor="${version#*.}"; ldflags+=" -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
done
echo "building kube-apiserver, kubectl and etcd $version into $dir (takes minutes the first time)"
go build -trimpath -ldflags "$ldflags" -o "$dir/etcd.tmp" ./etcd
go build -trimpath -ldflags "$ldflags" -o "$dir/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "$ldflags" -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
for b in etcd kubectl kube-apiserver; do mv "$dir/$b.tmp" "$dir/$b"; done
echo "kube binaries $version ready in $dir"
