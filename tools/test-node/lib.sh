# Shared by node-up.sh, node-down.sh and smoke.sh: names and addresses of the test node.
# Everything the node makes on the machine is named from these, so that node-down.sh can find
# it again even after a crash.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kube_version="$(awk '$1=="k8s.io/kubernetes" {sub(/^v/, "", $2); print $2}' "$repo/tools/kube-binaries/go.mod")"
KUBE_BIN_DIR="${KUBE_BIN_DIR:-${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/${kube_version}-linux-amd64}"
# the node's address, added to lo; Pods reach servers of the host that listen on it
NODE_IP="${PGMIGRATE_NODE_IP:-10.77.0.1}"
# Pod addresses (CNI bridge + host-local IPAM); servers that Pods use see clients from here
POD_CIDR="${PGMIGRATE_POD_CIDR:-10.88.0.0/16}"
# named by its address: the API server reaches kubelet (logs, exec) by the node's Hostname
# address first, and an IP needs no DNS or /etc/hosts entry (kube-api-test's apiserver does not
# set --kubelet-preferred-address-types)
NODE_NAME="${PGMIGRATE_NODE_NAME:-$NODE_IP}"
# A second node on the same machine (e.g. for trying things while the tests use the first one)
# needs its own address, Pod range, bridge, cgroup root and containerd image store: set
# PGMIGRATE_NODE_IP, PGMIGRATE_POD_CIDR, PGMIGRATE_BRIDGE, PGMIGRATE_CGROUP_ROOT and
# PGMIGRATE_CONTAINERD_STORE (node-up.sh) for it; the defaults are the first node's.
BRIDGE="${PGMIGRATE_BRIDGE:-pgmt0}"
# the CNI network (and its cached results in /var/lib/cni) is named after the bridge
if [[ $BRIDGE == pgmt0 ]]; then CNI_NETWORK=pgmigrate-test; else CNI_NETWORK="pgmigrate-test-$BRIDGE"; fi
# every Pod's cgroups live below this one, in each cgroup v1 hierarchy (or in the v2 tree)
CGROUP_ROOT="${PGMIGRATE_CGROUP_ROOT:-/pgmigrate-test-node}"
# node-up.sh's stand-in for kube-proxy, for one Service: Pods' connections to the `kubernetes`
# Service (10.0.0.1:443) go to the API server on the node IP (nat PREROUTING jumps here)
SERVICE_CHAIN="PGMT-KUBERNETES-$BRIDGE"
CONTAINERD_STORE="${PGMIGRATE_CONTAINERD_STORE:-/var/cache/pgmigrate-tests/containerd}"
# kernel settings kubelet (and the CNI bridge: ip_forward) change machine-wide
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward)

log() { echo "[test-node $(date +%T)] $*" >&2; }

cgroup_dirs() { # the node's cgroup directories that exist, one per hierarchy
  local d
  for d in /sys/fs/cgroup/*"$CGROUP_ROOT" /sys/fs/cgroup"$CGROUP_ROOT"; do
    [[ -d $d ]] && echo "$d"
  done
  return 0
}

has_node_ip() { [[ "$(ip -o -4 addr show dev lo)" == *" $NODE_IP/32 "* ]]; }

# true when a test node other than this one is up (a pgmt* bridge that is not ours): shared
# machine-wide things (kernel settings, kubelet's iptables chains) are then left as they are
other_node_up() {
  local l
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    [[ $l == pgmt* && $l != "$BRIDGE" ]] && return 0
  done
  return 1
}
