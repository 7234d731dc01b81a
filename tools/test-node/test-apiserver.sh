#!/usr/bin/env bash
# An etcd + kube-apiserver configured as fabric8 kube-api-test starts them (same binaries, same
# kind of certificates and flags: RBAC, a self-signed client certificate in system:masters that
# is also the client CA, the server key as service-account key, ServiceAccount admission off),
# for smoke.sh and for trying the node by hand without the Java tests.
#   test-apiserver.sh up DIR    prints the admin kubeconfig's path (DIR/kubeconfig)
#   test-apiserver.sh down DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
(($# == 2)) || { echo "usage: $0 up|down DIR" >&2; exit 2; }
mkdir -p "$2"
dir="$(realpath "$2")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
case $1 in
down)
  for p in kube-apiserver etcd; do
    if [[ -f $dir/$p.pid ]]; then
      pid="$(cat "$dir/$p.pid")"
      kill "$pid" 2>/dev/null && for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
  rm -rf "$dir/etcd-data" "$dir/certs" "$dir/kubeconfig"
  ;;
up)
  mkdir -p "$dir/certs"
  c="$dir/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=example.org" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster,DNS:kubernetes.default.svc.cluster.local" \
    -keyout "$c/apiserver.key" -out "$c/apiserver.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=system:masters/CN=kubeapitest" \
    -keyout "$c/client.key" -out "$c/client.crt" 2>/dev/null
  etcd_port="$(free_port)" peer_port="$(free_port)" api_port="$(free_port)"
  setsid "$KUBE_BIN_DIR/etcd" --data-dir "$dir/etcd-data" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port" \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
  setsid "$KUBE_BIN_DIR/kube-apiserver" --cert-dir "$c" --tls-cert-file "$c/apiserver.crt" \
    --tls-private-key-file "$c/apiserver.key" --secure-port "$api_port" --bind-address 127.0.0.1 \
    --etcd-servers "http://127.0.0.1:$etcd_port" --authorization-mode RBAC \
    --service-account-issuer https://localhost --service-account-signing-key-file "$c/apiserver.key" \
    --service-account-key-file "$c/apiserver.key" --disable-admission-plugins ServiceAccount \
    --client-ca-file "$c/client.crt" --service-cluster-ip-range 10.0.0.0/24 --allow-privileged \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-apiserver.pid"
  cat >"$dir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: "$c/apiserver.crt"}
users:
- name: admin
  user: {client-certificate: "$c/client.crt", client-key: "$c/client.key"}
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
YAML
  for _ in $(seq 300); do
    "$KUBE_BIN_DIR/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1 && break
    kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || { tail -20 "$dir/kube-apiserver.log" >&2; exit 1; }
    sleep 0.2
  done
  "$KUBE_BIN_DIR/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null
  echo "$dir/kubeconfig"
  ;;
*) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
