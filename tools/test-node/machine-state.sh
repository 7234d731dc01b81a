#!/usr/bin/env bash
# Prints what a test node may change on this machine (kernel settings kubelet and the bridge
# touch, addresses, links, iptables chains, the node's cgroups, container runtime and log
# directories, mounts and processes of a node work dir), so that a run can be compared before
# and after: .ci/run fails when the tests left anything behind.
#   machine-state.sh [WORK_DIR_PATTERN]   (default: test-node, the tests' target/test-node)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
pattern="${1:-/test-node}"
for s in "${SYSCTLS[@]}"; do echo "sysctl $s=$(sysctl -n "$s" 2>/dev/null || echo '?')"; done
ip -o addr show | awk '{print "addr", $2, $3, $4}'
ip -o link show | awk -F': ' '{print "link", $2}'
iptables-save 2>/dev/null | grep -E '^[:*]' | sed 's/\[[0-9:]*\]//; s/^/iptables /' || true
for d in /sys/fs/cgroup/*"$CGROUP_ROOT" /sys/fs/cgroup"$CGROUP_ROOT"; do
  [[ -d $d ]] && echo "cgroup $d"
done
for d in /var/log/containers /var/log/pods /var/lib/cni; do
  [[ -d $d ]] && ls "$d" | sed "s|^|dir $d/|"
done
grep -F "$pattern/" /proc/self/mountinfo | awk '{print "mount", $5}' || true
for p in /proc/[0-9]*; do
  cmd="$(tr '\0' ' ' 2>/dev/null <"$p/cmdline" || true)"
  [[ $cmd == *"$pattern/"* ]] && echo "process $cmd"
done
true
