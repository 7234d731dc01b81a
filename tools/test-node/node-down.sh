#!/usr/bin/env bash
# Stops the node that node-up.sh started in WORK_DIR and removes everything it made on the
# machine: processes (kubelet, scheduler, controller manager, containerd, shims, containers),
# mounts under WORK_DIR, the Pods' cgroups, the node address on lo, the CNI bridge and its veths,
# iptables chains the node added, /var/log/containers links into WORK_DIR; puts back the kernel
# settings kubelet changed. Idempotent, and safe after a crash or a half-done node-up.sh.
# Keeps WORK_DIR/logs; everything else in WORK_DIR goes.
#   node-down.sh WORK_DIR
set -uo pipefail
source "$(dirname "$0")/lib.sh"
(($# == 1)) || { echo "usage: $0 WORK_DIR" >&2; exit 2; }
# (a work dir that is gone still gets the rest cleaned: bridge, address, cgroups, processes)
work="$(realpath -m "$1")"
[[ $work != / ]] || exit 2
[[ -f $work/node.env ]] && source "$work/node.env"

# the node's programs whose command line names the work dir (each is given a file in it; the
# shims get containerd's socket); never this script nor its callers, nor any other program
ancestors=" "
for ((a = $$; a > 1; )); do
  ancestors+="$a "
  a="$(awk '{print $4}' "/proc/$a/stat" 2>/dev/null)" || break
  [[ -n $a ]] || break
done
node_programs=(kubelet kube-scheduler kube-controller-manager containerd 'containerd-shim*' runc)
procs_of_work() { # [NAME_PATTERN...]: only those whose program matches (default: all of the node's)
  local p pid cmd args pats=("$@")
  ((${#pats[@]})) || pats=("${node_programs[@]}")
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [[ $ancestors == *" $pid "* ]] && continue
    mapfile -d '' -t args 2>/dev/null <"$p/cmdline" || continue   # no fork per process
    cmd="${args[*]}"
    [[ $cmd == *"$work/"* ]] || continue
    local exe="${cmd%% *}" n ok=
    for n in "${pats[@]}"; do [[ ${exe##*/} == $n ]] && ok=1; done
    [[ -n $ok ]] && echo "$pid"
  done
  return 0
}
cgroup_procs() { local d; for d in $(cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done; return 0; }
stop() { # SIGNAL PIDS...: signal, wait up to 5 s, then SIGKILL
  local sig=$1 pid; shift
  (($#)) || return 0
  kill "-$sig" "$@" 2>/dev/null
  for _ in $(seq 50); do
    local alive=0
    for pid; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null
  sleep 0.2
}

t0=$SECONDS
# 1. kubelet, scheduler, controller manager first (kubelet would restart containers)
mapfile -t pids < <(procs_of_work kubelet kube-scheduler kube-controller-manager)
stop TERM "${pids[@]}"
log "kubelet, scheduler, controller manager stopped at $((SECONDS - t0)) s"
# 2. the containers (every process in the node's cgroups), then the shims and containerd
for _ in 1 2 3; do
  mapfile -t pids < <(cgroup_procs)
  ((${#pids[@]})) || break
  kill -KILL "${pids[@]}" 2>/dev/null
  sleep 0.3
done
# their containerd records go too (its image store is kept between nodes): without them the
# next node starts clean
sock="$work/containerd/containerd.sock"
if [[ -S $sock ]] && ctr --address "$sock" version >/dev/null 2>&1; then
  mapfile -t ids < <(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null)
  if ((${#ids[@]})); then
    ctr --address "$sock" -n k8s.io tasks rm -f "${ids[@]}" >/dev/null 2>&1
    ctr --address "$sock" -n k8s.io containers rm "${ids[@]}" >/dev/null 2>&1
  fi
fi
mapfile -t pids < <(procs_of_work)
stop TERM "${pids[@]}"
log "processes stopped in $((SECONDS - t0)) s"
# 3. mounts under the work dir, deepest first (overlay roots, shm, netns, kubelet volumes)
for _ in 1 2 3; do
  mapfile -t mounts < <(awk -v w="$work/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  ((${#mounts[@]})) || break
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done

log "mounts removed at $((SECONDS - t0)) s"
# 4. cgroups, deepest first
for d in $(cgroup_dirs); do
  find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  [[ -d $d ]] && echo "cgroup $d not removed" >&2
done

# 5. network: bridge (its veths went with the Pods' namespaces), node address, iptables chains
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
has_node_ip && ip addr del "$NODE_IP/32" dev lo
# node-up.sh's DNAT for the `kubernetes` Service
if iptables -t nat -S "$SERVICE_CHAIN" >/dev/null 2>&1; then
  while iptables -t nat -D PREROUTING -j "$SERVICE_CHAIN" 2>/dev/null; do :; done
  iptables -t nat -F "$SERVICE_CHAIN" && iptables -t nat -X "$SERVICE_CHAIN"
fi
# (kubelet's chains are machine-wide: while another test node runs they stay)
if command -v iptables-save >/dev/null && ! other_node_up; then
  for table in filter nat mangle; do
    iptables-save -t "$table" 2>/dev/null | grep -oE '^:(CNI|KUBE)-[A-Za-z0-9_-]+' | cut -c2- | while read -r chain; do
      [[ -f $work/iptables-chains.before ]] && grep -qx ":$chain" "$work/iptables-chains.before" && continue
      # drop the rules that jump to it, then the chain
      iptables-save -t "$table" | grep -E "^-A [^ ]+ .*-j $chain( |\$)" | sed 's/^-A /-D /' | while read -r rule; do
        eval "iptables -t $table $rule" 2>/dev/null
      done
      iptables -t "$table" -F "$chain" 2>/dev/null
      iptables -t "$table" -X "$chain" 2>/dev/null
    done
  done
fi
rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null

# 6. container log links kubelet made (into the work dir; dangling ones are garbage anyway),
# and the directory of the shims' sockets (containerd 1.6 puts them below /run/containerd/s)
for l in /var/log/containers/*.log; do
  [[ -L $l ]] && [[ $(readlink "$l") == "$work/"* || ! -e $l ]] && rm -f "$l"
done
# a shim killed before its task was deleted leaves its socket: containerd 1.6 names it
# /run/containerd/s/sha256(<containerd socket>/<namespace>/<task id>)
for bundle in "$work"/containerd/state/io.containerd.runtime.v2.task/*/*; do
  [[ -d $bundle ]] || continue
  ns="$(basename "$(dirname "$bundle")")" id="$(basename "$bundle")"
  hash="$(printf '%s' "$work/containerd/containerd.sock/$ns/$id" | sha256sum | cut -d' ' -f1)"
  rm -f "/run/containerd/s/$hash"
done
rmdir /var/log/containers /run/containerd/s /run/containerd 2>/dev/null

log "network and logs cleaned at $((SECONDS - t0)) s"
# 7. kernel settings
# (not while another test node runs: it needs them, ip_forward above all; the last one down
# puts them back)
if [[ -s $work/sysctls.saved ]] && ! other_node_up; then
  while IFS='=' read -r key value; do
    [[ $(sysctl -n "$key") == "$value" ]] || sysctl -q -w "$key=$value" >/dev/null
  done <"$work/sysctls.saved"
fi

# 8. the work dir but its logs
[[ -d $work ]] && find "$work" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null
left="$(awk -v w="$work/" 'index($5, w) == 1' /proc/self/mountinfo)$(procs_of_work)"
[[ -z $left ]] || { echo "left behind: $left" >&2; exit 1; }
exit 0
