#!/usr/bin/env bash
# Starts a real Kubernetes node against a running API server: containerd (+ runc, CNI bridge),
# kube-controller-manager, kube-scheduler and kubelet, all state under WORK_DIR; imports the
# images of images.sh; waits until the node is Ready and the not-ready taint is gone.
#   node-up.sh ADMIN_KUBECONFIG WORK_DIR
# Environment (all optional):
#   PGMIGRATE_SA_KEY         service-account signing key of the API server (kube-api-test:
#                            <dir>/apiserver.key), so the controller manager can sign tokens
#   PGMIGRATE_NODE_IMAGES    which images to import, names as images.sh prints (default: all)
#   PGMIGRATE_CONTAINERD_STORE  containerd's image store, kept between nodes (default
#                            /var/cache/pgmigrate-tests/containerd)
#   PGMIGRATE_NODE_IP, PGMIGRATE_POD_CIDR, PGMIGRATE_NODE_NAME, PGMIGRATE_BRIDGE,
#   PGMIGRATE_CGROUP_ROOT, KUBE_BIN_DIR: see lib.sh (a second node on one machine)
# Stop with node-down.sh WORK_DIR (also after a failure or crash). Needs root.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
(($# == 2)) || { echo "usage: $0 ADMIN_KUBECONFIG WORK_DIR" >&2; exit 2; }
mkdir -p "$2"
work="$(realpath "$2")"
start=$SECONDS
store="$CONTAINERD_STORE"
[[ -e $work/node.env ]] && { echo "a node seems up in $work: run node-down.sh $work first" >&2; exit 1; }
if ip link show "$BRIDGE" >/dev/null 2>&1 || [[ -n "$(cgroup_dirs)" ]]; then
  echo "another test node is up, or left over from a crash: run node-down.sh on its work dir" >&2
  exit 1
fi
for b in kubelet kube-scheduler kube-controller-manager kubectl; do
  [[ -x $KUBE_BIN_DIR/$b ]] || { echo "$KUBE_BIN_DIR/$b missing: run tools/kube-binaries/build.sh" >&2; exit 1; }
done
"$here/install.sh" >/dev/null
mapfile -t images < <("$here/images.sh")
kubectl() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$kubeconfig" "$@"; }
"$KUBE_BIN_DIR/kubectl" --kubeconfig "$1" get --raw /readyz >/dev/null

# on failure leave no half-started node behind
trap 'status=$?; if ((status)); then log "node-up failed, tearing down"; "$here/node-down.sh" "$work" || true; fi' EXIT

mkdir -p "$work"/{logs,containerd,cni/net.d,cni/ipam,kubelet,pod-logs}
# the node's own copy, self-contained: every process of the node names a file in the work dir,
# which is how node-down.sh finds them
"$KUBE_BIN_DIR/kubectl" --kubeconfig "$1" config view --minify --flatten --raw >"$work/kubeconfig"
kubeconfig="$work/kubeconfig"
cat >"$work/node.env" <<ENV
NODE_IP=$NODE_IP
POD_CIDR=$POD_CIDR
NODE_NAME=$NODE_NAME
BRIDGE=$BRIDGE
CNI_NETWORK=$CNI_NETWORK
CGROUP_ROOT=$CGROUP_ROOT
SERVICE_CHAIN=$SERVICE_CHAIN
ENV
# kernel settings to put back on node-down (only when not saved already: a second up after a
# crash must not save the node's values)
if [[ ! -s $work/sysctls.saved ]]; then
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done >"$work/sysctls.saved"
fi
iptables-save 2>/dev/null | grep -oE '^:[A-Z0-9_-]+' | sort -u >"$work/iptables-chains.before" || true

# network: node address on lo (not loopback: kubelet refuses 127.x node IPs)
has_node_ip || ip addr add "$NODE_IP/32" dev lo
[[ $'\n'"$(ip -4 route show)" != *$'\n'"$POD_CIDR "* ]] || { echo "$POD_CIDR is already routed here" >&2; exit 1; }
cat >"$work/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$work/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

# the `kubernetes` Service without kube-proxy: Pods that use in-cluster configuration connect to
# its ClusterIP, 10.0.0.1:443; send them to the API server's port on the node IP (the API
# server must listen there, and its certificate name 10.0.0.1: test-apiserver.sh does both)
api_port="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' | sed -E 's#.*:([0-9]+)/?$#\1#')"
cluster_ip="$(kubectl get service kubernetes -n default -o jsonpath='{.spec.clusterIP}')"
iptables -t nat -N "$SERVICE_CHAIN"
iptables -t nat -A "$SERVICE_CHAIN" -s "$POD_CIDR" -d "$cluster_ip" -p tcp --dport 443 \
  -j DNAT --to-destination "$NODE_IP:$api_port"
iptables -t nat -I PREROUTING -j "$SERVICE_CHAIN"

# cgroups: kubelet puts every Pod below $CGROUP_ROOT, which must exist
for h in /sys/fs/cgroup/*/; do
  [[ -e $h/cgroup.procs && ! -L ${h%/} ]] && mkdir -p "$h${CGROUP_ROOT#/}"
done
[[ -e /sys/fs/cgroup/cgroup.controllers ]] && mkdir -p "/sys/fs/cgroup$CGROUP_ROOT"

# controller manager and scheduler (no serving ports: nothing here scrapes them)
log "starting kube-controller-manager and kube-scheduler"
cm_args=(--kubeconfig "$kubeconfig" --leader-elect=false --secure-port=0
  --use-service-account-credentials=false --allocate-node-cidrs=false
  --node-monitor-period=2s --node-monitor-grace-period=20s)
[[ -n ${PGMIGRATE_SA_KEY:-} ]] && cm_args+=(--service-account-private-key-file "$PGMIGRATE_SA_KEY")
setsid "$KUBE_BIN_DIR/kube-controller-manager" "${cm_args[@]}" >"$work/logs/kube-controller-manager.log" 2>&1 </dev/null &
cm_pid=$!
setsid "$KUBE_BIN_DIR/kube-scheduler" --kubeconfig "$kubeconfig" --leader-elect=false --secure-port=0 \
  >"$work/logs/kube-scheduler.log" 2>&1 </dev/null &
scheduler_pid=$!

# containerd: its image store (content, unpacked layers, metadata) is kept between nodes in
# $store, so that a second node-up imports nothing; all else (state, sockets, runc, netns) is
# under $work/containerd. One node at a time uses the store (flock).
c="$work/containerd"
mkdir -p "$store"
containerd_config() { # FILE EXTRA_DISABLED_PLUGINS
  cat >"$1" <<TOML
version = 2
root = "$store/root"
state = "$c/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"$2]
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # the VM lacks CAP_SYS_RESOURCE: without this every sandbox fails to start
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$c/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni/net.d"
    max_conf_num = 1
TOML
}
ctr() { command ctr --address "$c/containerd.sock" "$@"; }
start_containerd() { # CONFIG LOG
  flock -n "$store/lock" true || { echo "another test node uses $store" >&2; exit 1; }
  # containerd itself holds the lock (inherited descriptor 8) for as long as it runs
  setsid bash -c 'exec 8>"$1" && flock -n 8 && exec containerd --config "$2"' lock "$store/lock" "$1" \
    >>"$2" 2>&1 </dev/null &
  containerd_pid=$!
  for _ in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
  ctr version >/dev/null
}
# first without its Kubernetes (CRI) plugin: drop containers an earlier node left (after a
# crash: node-down.sh removes them) and import the images the store lacks
containerd_config "$c/images.toml" ', "io.containerd.grpc.v1.cri"'
start_containerd "$c/images.toml" "$work/logs/containerd-images.log"
t=$SECONDS
mapfile -t stale < <(ctr -n k8s.io containers ls -q)
if ((${#stale[@]})); then
  ctr -n k8s.io tasks rm -f "${stale[@]}" >/dev/null 2>&1 || true
  ctr -n k8s.io containers rm "${stale[@]}" >/dev/null
  log "removed ${#stale[@]} containers an earlier node left"
fi
have="$(ctr -n k8s.io images ls -q)"
for line in "${images[@]}"; do
  ref="${line%% *}" tar="${line#* }"
  if [[ -n ${PGMIGRATE_NODE_IMAGES:-} && " $PGMIGRATE_NODE_IMAGES " != *" $ref "* && $ref != registry.k8s.io/pause:* ]]; then
    continue
  fi
  # the tar's name holds its recipe's hash: same name, same image
  if [[ $'\n'"$have"$'\n' == *$'\n'"$ref"$'\n'* ]] && grep -qxF "$ref $tar" "$store/imported" 2>/dev/null; then
    continue
  fi
  t1=$SECONDS
  ctr -n k8s.io images import --snapshotter overlayfs "$tar" >/dev/null
  { grep -v "^$ref " "$store/imported" 2>/dev/null || true; echo "$ref $tar"; } >"$store/imported.new"
  mv "$store/imported.new" "$store/imported"
  log "imported $ref in $((SECONDS - t1)) s"
done
kill "$containerd_pid"; wait "$containerd_pid" 2>/dev/null || true
log "images ready in $((SECONDS - t)) s"
containerd_config "$c/config.toml" ''
log "starting containerd"
start_containerd "$c/config.toml" "$work/logs/containerd.log"

# kubelet
printf 'options ndots:1\n' >"$work/kubelet/resolv.conf"
cat >"$work/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzPort: 0
# the API server (kube-api-test's) calls kubelet (logs, exec) without a client certificate
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$c/containerd.sock
podLogsDir: $work/pod-logs
resolvConf: $work/kubelet/resolv.conf
# the images come from images.sh, not from a registry: never collect them
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%"}
serializeImagePulls: false
registerNode: true
nodeStatusUpdateFrequency: 2s
syncFrequency: 10s
fileCheckFrequency: 0s
shutdownGracePeriod: 0s
YAML
log "starting kubelet"
setsid "$KUBE_BIN_DIR/kubelet" --config "$work/kubelet/config.yaml" --kubeconfig "$kubeconfig" \
  --root-dir "$work/kubelet/root" --cert-dir "$work/kubelet/pki" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  >"$work/logs/kubelet.log" 2>&1 </dev/null &
kubelet_pid=$!

log "waiting for node $NODE_NAME to be Ready and untainted"
for _ in $(seq 600); do
  for p in containerd:$containerd_pid kube-controller-manager:$cm_pid kube-scheduler:$scheduler_pid kubelet:$kubelet_pid; do
    kill -0 "${p#*:}" 2>/dev/null || { p="${p%:*}"; echo "$p exited: see $work/logs/$p.log" >&2; tail -20 "$work/logs/$p.log" >&2; exit 1; }
  done
  ready="$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.spec.taints}' 2>/dev/null || true)"
  [[ $ready == "True " ]] && break
  sleep 0.5
done
[[ $ready == "True " ]] || { echo "node not Ready: $ready" >&2; exit 1; }
log "node $NODE_NAME Ready in $((SECONDS - start)) s (node IP $NODE_IP, Pods in $POD_CIDR)"
