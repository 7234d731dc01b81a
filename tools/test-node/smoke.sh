#!/usr/bin/env bash
# End-to-end proof of the test node: builds what is missing (packages, kube binaries, images),
# starts the test API server (test-apiserver.sh), brings the node up, runs real Pods, brings it all
# down and checks that nothing is left. Prints the time of each step. Needs root.
#   smoke.sh [WORK_DIR]    (default: a new temp dir, removed at the end)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
K="$KUBE_BIN_DIR/kubectl"
work="${1:-$(mktemp -d /tmp/pgmigrate-test-node.XXXXXX)}"
mkdir -p "$work"
work="$(realpath "$work")"
chmod 755 "$work"   # the PostgreSQL server below runs as user postgres
api="$work/api" node="$work/node" pgdata="$work/pg"
declare -a timings=()
t() { timings+=("$(printf '%-48s %5d s' "$1" "$2")"); log "$1: $2 s"; }
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }
snapshot() { # what the node may change on the machine, to compare before and after
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done
  ip -o addr show | awk '{print $2, $3, $4}'
  ip -o link show | awk -F': ' '{print $2}'
  iptables-save 2>/dev/null | grep -E '^[:*-]' | sed 's/\[[0-9:]*\]//'
  ls -d /sys/fs/cgroup/*"$CGROUP_ROOT" /sys/fs/cgroup"$CGROUP_ROOT" 2>/dev/null
  ls /var/log/containers /var/log/pods /run/containerd /var/lib/cni 2>/dev/null
  true
}
pg_pid=
cleanup() {
  [[ -n $pg_pid ]] && kill "$pg_pid" 2>/dev/null
  "$here/node-down.sh" "$node" >/dev/null 2>&1 || true
  "$here/test-apiserver.sh" down "$api" >/dev/null 2>&1 || true
  [[ -z ${keep_work:-} ]] && rm -rf "$work"
}
trap 'status=$?; ((status)) && { keep_work=1; echo "logs kept in $work" >&2; }; cleanup' EXIT

s=$SECONDS; "$here/install.sh" >/dev/null; t "install.sh (apt packages)" $((SECONDS - s))
s=$SECONDS; "$repo/tools/kube-binaries/build.sh" >/dev/null; t "kube-binaries/build.sh" $((SECONDS - s))
s=$SECONDS; "$here/images.sh" >/dev/null; t "images.sh" $((SECONDS - s))
before="$(snapshot)"

s=$SECONDS; kubeconfig="$("$here/test-apiserver.sh" up "$api")"; t "etcd + kube-apiserver up" $((SECONDS - s))
export KUBECONFIG="$kubeconfig"
export PGMIGRATE_SA_KEY="$api/certs/sa.key"   # the API server's service-account signing key
s=$SECONDS; "$here/node-up.sh" "$kubeconfig" "$node"; t "node-up.sh (to node Ready)" $((SECONDS - s))

ns=smoke
s=$SECONDS
"$K" create namespace $ns >/dev/null
"$K" label namespace $ns pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
until "$K" -n $ns get serviceaccount default >/dev/null 2>&1; do
  ((SECONDS - s < 30)) || fail "no default ServiceAccount in namespace $ns"
  sleep 0.2
done
t "namespace + default ServiceAccount" $((SECONDS - s))
# Pod Security admission enforces the level
if "$K" -n $ns run privileged --image=postgres:15 --restart=Never --privileged -- true >/dev/null 2>&1; then
  fail "a privileged Pod was admitted in a restricted namespace"
fi

# pod NAME IMAGE SCRIPT [EXTRA_POD_SPEC_YAML]: a Pod the restricted Pod Security level admits
pod() {
  "$K" -n $ns apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 30
  securityContext:
    runAsUser: 999
    runAsGroup: 999
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: main
    image: $2
    command: [bash, -c, $(printf '%s' "$3" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
YAML
}
phase() { "$K" -n $ns get pod "$1" -o jsonpath='{.status.phase}'; }
await_phase() { # NAME PHASE TIMEOUT
  local s=$SECONDS
  until [[ $(phase "$1") == "$2" ]]; do
    ((SECONDS - s < $3)) || { "$K" -n $ns describe pod "$1" >&2; fail "pod $1 not $2 after $3 s"; }
    sleep 0.2
  done
}

for major in 15 17; do
  s=$SECONDS
  pod pg$major postgres:$major 'psql --version; pg_dump --version; id -u'
  await_phase pg$major Succeeded 60
  t "Pod postgres:$major created -> Succeeded" $((SECONDS - s))
  out="$("$K" -n $ns logs pg$major)"
  echo "$out" | sed "s/^/  pg$major: /"
  [[ $out == *"psql (PostgreSQL) $major."* && $out == *"pg_dump (PostgreSQL) $major."* && $out == *999 ]] \
    || fail "pg$major logs: $out"
done

s=$SECONDS
pod failing postgres:15 'echo "the source is gone" >/dev/termination-log; exit 3'
await_phase failing Failed 60
msg="$("$K" -n $ns get pod failing -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.message}')"
[[ $msg == "3 the source is gone"* ]] || fail "termination message: $msg"
t "failing Pod: exit code + terminationMessage" $((SECONDS - s))
echo "  failing: $msg"

# shaped like the operator's dump Pods: Secret env and a Secret volume with one item, emptyDirs
# (one size-limited) writable under a read-only root, fsGroup, FallbackToLogsOnError, an owner
s=$SECONDS
"$K" -n $ns create secret generic creds --from-literal=password=s3cret --from-literal=ca=CERT >/dev/null
"$K" -n $ns create configmap owner >/dev/null
owner_uid="$("$K" -n $ns get configmap owner -o jsonpath='{.metadata.uid}')"
"$K" -n $ns apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: dumplike
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: $owner_uid, controller: true, blockOwnerDeletion: true}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext: {runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: copy
    image: postgres:17
    command: [bash, -c, 'echo "pw=\$SRC_PASSWORD ca=\$(cat /certs/source/ca.crt)"; echo x >/tmp/f; echo y >/scratch/f; ls -lnL /certs/source/ca.crt | cut -c1-10; echo "broke on purpose"; exit 7']
    terminationMessagePolicy: FallbackToLogsOnError
    env:
    - name: SRC_PASSWORD
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    volumeMounts:
    - {name: tmp, mountPath: /tmp}
    - {name: scratch, mountPath: /scratch}
    - {name: source-ca, mountPath: /certs/source, readOnly: true}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
  volumes:
  - {name: tmp, emptyDir: {}}
  - {name: scratch, emptyDir: {sizeLimit: 64Mi}}
  - name: source-ca
    secret: {secretName: creds, defaultMode: 0444, items: [{key: ca, path: ca.crt}]}
YAML
await_phase dumplike Failed 60
out="$("$K" -n $ns logs dumplike)"
msg="$("$K" -n $ns get pod dumplike -o jsonpath='{.status.containerStatuses[0].state.terminated.message}')"
echo "$out" | sed 's/^/  dumplike: /'
[[ $out == *"pw=s3cret ca=CERT"* && $out == *"-r--r--r--"* && $msg == *"broke on purpose"* ]] \
  || fail "dump-like Pod: logs '$out', message '$msg'"
"$K" -n $ns delete configmap owner >/dev/null
until ! "$K" -n $ns get pod dumplike >/dev/null 2>&1; do
  ((SECONDS - s < 60)) || fail "the dump-like Pod was not garbage-collected with its owner"
  sleep 0.2
done
t "dump-like Pod (Secrets, emptyDirs, fsGroup, GC)" $((SECONDS - s))

# a server on the node address, reached from a Pod: PostgreSQL if its server is installed
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -x $pgbin/postgres ]] && id postgres >/dev/null 2>&1; then
  s=$SECONDS
  mkdir -p "$pgdata" && chown postgres "$pgdata"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  runuser -u postgres -- "$pgbin/initdb" -D "$pgdata/data" -A trust -U postgres >/dev/null
  echo "host all all $POD_CIDR trust" >>"$pgdata/data/pg_hba.conf"
  runuser -u postgres -- "$pgbin/postgres" -D "$pgdata/data" -p "$port" -k "$pgdata" \
    -c "listen_addresses=127.0.0.1,$NODE_IP" >"$pgdata/log" 2>&1 &
  pg_pid=$!
  until runuser -u postgres -- "$pgbin/pg_isready" -q -h "$NODE_IP" -p "$port"; do sleep 0.2; done
  pod psql postgres:17 "psql -h $NODE_IP -p $port -U postgres -Atc 'select inet_client_addr()'"
  await_phase psql Succeeded 60
  client="$("$K" -n $ns logs psql)"
  echo "  PostgreSQL on $NODE_IP:$port saw the Pod connect from $client"
  [[ $client == 10.88.* || $client == "${POD_CIDR%%.*}".* ]] || fail "psql from Pod: $client"
  kill "$pg_pid"; wait "$pg_pid" 2>/dev/null || true; pg_pid=
  t "Pod -> PostgreSQL on the node IP" $((SECONDS - s))
fi

pod sleeper postgres:15 'trap "echo got SIGTERM; exit 0" TERM; while true; do sleep 1 & wait $!; done'
await_phase sleeper Running 60
s=$SECONDS
"$K" -n $ns delete pod sleeper --wait=true --timeout=60s >/dev/null
took=$((SECONDS - s))
((took < 10)) || fail "deleting a running Pod took $took s: SIGTERM not delivered (grace period 30 s)"
t "delete running Pod (SIGTERM, grace 30 s)" $took

s=$SECONDS
"$K" delete namespace $ns --wait=true --timeout=120s >/dev/null
"$K" get namespace $ns >/dev/null 2>&1 && fail "namespace $ns still there"
t "delete namespace (finalized)" $((SECONDS - s))

s=$SECONDS; "$here/node-down.sh" "$node"; t "node-down.sh" $((SECONDS - s))
"$here/node-down.sh" "$node" 2>/dev/null || fail "a second node-down.sh failed"

# a crash: every process of the node killed at once, a Pod running; node-down.sh cleans up
s=$SECONDS
"$here/node-up.sh" "$kubeconfig" "$node" 2>/dev/null
ns=default
pod crash postgres:15 'sleep 3600'
await_phase crash Running 60
for p in /proc/[0-9]*; do
  if [[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" == *"$node/"* ]]; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
done
"$here/node-down.sh" "$node" 2>/dev/null || fail "node-down.sh after a crash failed"
t "crash (SIGKILL) + node-down.sh + checks" $((SECONDS - s))
"$here/test-apiserver.sh" down "$api"
after="$(snapshot)"
if [[ $before != "$after" ]]; then
  diff <(echo "$before") <(echo "$after") >&2
  fail "the machine differs after node-down"
fi
leftover="$(grep -F "$node/" /proc/self/mountinfo || true)"
[[ -z $leftover ]] || fail "mounts left: $leftover"
for p in /proc/[0-9]*; do
  if [[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" == *"$node/"* ]]; then fail "process left: $(tr '\0' ' ' <"$p/cmdline")"; fi
done
echo "nothing left behind (processes, mounts, addresses, links, iptables, cgroups, sysctls)"
echo
echo "timings:"
printf '  %s\n' "${timings[@]}"
echo "SMOKE OK"
