#!/usr/bin/env bash
# Installs from Debian's packages what tools/test-node needs and the machine lacks: containerd,
# runc and the CNI plugins for the node; mmdebstrap, umoci and skopeo to build images without a
# registry or Docker; gcc for the static pause binary; iptables for the CNI bridge and portmap;
# openssl for the test cluster's certificates. Idempotent: does nothing when all are installed.
set -euo pipefail
packages=(containerd runc containernetworking-plugins mmdebstrap umoci skopeo iproute2 iptables
  openssl gcc libc6-dev util-linux procps ca-certificates)
missing=()
for p in "${packages[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "test-node packages already installed"
  exit 0
fi
echo "installing ${missing[*]}"
apt-get update -qq
# the packaged containerd service would start a second containerd on /run/containerd: the node
# runs its own under a work directory, so keep the package from starting services
policy=/usr/sbin/policy-rc.d
created_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[[ -n $created_policy ]] && rm -f "$policy"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
