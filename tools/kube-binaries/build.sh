#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy into the layout fabric8's
# kube-api-test expects: $KUBE_API_TEST_DIR/k8s/<version>-linux-amd64/{etcd,kube-apiserver,kubectl},
# and next to them the node's kubelet, kube-scheduler and kube-controller-manager
# (tools/test-node runs Pods in real containers with them).
# The result is cached outside the repository: a binary already there is not built again, so a
# second run with all six present does nothing, and a cache made before the node binaries
# existed only gets those three added.
#   build.sh [BINARY...]   only these (the demo and the benchmark need etcd, kube-apiserver and
#                          kubectl, not the node's); default all six
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="k8s.io/kubernetes" {sub(/^v/, "", $2); print $2}' "$here/go.mod")"
dir="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/${version}-linux-amd64"
declare -A pkg=(
  [etcd]=./etcd
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
)
order=(etcd kubectl kube-apiserver kube-controller-manager kube-scheduler kubelet)
if (($#)); then order=("$@"); fi
missing=()
for b in "${order[@]}"; do
  [[ -x "$dir/$b" ]] || missing+=("$b")
done
if ((${#missing[@]} == 0)); then
  echo "kube binaries $version (${order[*]}) already in $dir"
  exit 0
fi
mkdir -p "$dir"
cd "$here"
export CGO_ENABLED=0
# stamp the release version, as the Kubernetes release build does, so that clients see v$version
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=v$version -X $p.gitMajor=${version%%.*}"
  minor="${version#*.}"; ldflags+=" -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean"
done
echo "building ${missing[*]} $version into $dir (takes minutes the first time, kubelet about 10 on 2 cores)"
for b in "${missing[@]}"; do
  go build -trimpath -ldflags "$ldflags" -o "$dir/$b.tmp" "${pkg[$b]}"
  mv "$dir/$b.tmp" "$dir/$b"
done
echo "kube binaries $version ready in $dir"
