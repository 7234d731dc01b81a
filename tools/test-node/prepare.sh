#!/usr/bin/env bash
# What the integration tests' real node needs on this machine, made once and cached: Debian's
# container packages (install.sh) and the images (images.sh). Run by the build before the
# integration tests (pre-integration-test) with the value of -Dpgmigrate.node; does nothing
# unless that is "real". kubelet and the other node binaries come from tools/kube-binaries.
#   prepare.sh real|host
set -euo pipefail
[[ ${1:-real} == real ]] || exit 0
here="$(cd "$(dirname "$0")" && pwd)"
start=$SECONDS
"$here/install.sh"
"$here/images.sh" >/dev/null
echo "test node prerequisites ready ($((SECONDS - start)) s)"
