#!/usr/bin/env bash
# The test API server: etcd + kube-apiserver (the binaries of tools/kube-binaries/build.sh),
# configured so that a Pod on the test node can use it as a cluster's own: a CA the kubeconfig
# trusts, a serving certificate for 127.0.0.1, the node IP and the `kubernetes` Service's
# ClusterIP 10.0.0.1, the default admission plugins (ServiceAccount: Pods get tokens;
# PodSecurity), a service-account key pair and issuer, RBAC, listening on all addresses. The
# Java tests (KubeApi) and smoke.sh start it with this script.
#   test-apiserver.sh up DIR    prints the admin kubeconfig's path (DIR/kubeconfig); the
#                               service-account signing key is DIR/certs/sa.key
# PGMIGRATE_NODE_IP: the node address the certificate names (lib.sh; default 10.77.0.1)
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
  # a CA that the kubeconfig trusts (and that the controller manager publishes to every
  # namespace as kube-root-ca.crt, for Pods); the serving certificate it signs names every
  # address a client uses: 127.0.0.1 (the tests), the node IP and the `kubernetes` Service's
  # ClusterIP 10.0.0.1 (Pods, through node-up.sh's stand-in for kube-proxy)
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pgmigrate-test-ca" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$c/apiserver.key" \
    -out "$c/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
    "$NODE_IP" >"$c/apiserver.ext"
  openssl x509 -req -in "$c/apiserver.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -days 2 -extfile "$c/apiserver.ext" -out "$c/apiserver.crt" 2>/dev/null
  # the admin: system:masters, signed by the same CA (the API server's client CA)
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=pgmigrate-test-admin" \
    -keyout "$c/client.key" -out "$c/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$c/client.ext"
  openssl x509 -req -in "$c/client.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -days 2 -extfile "$c/client.ext" -out "$c/client.crt" 2>/dev/null
  # ServiceAccount tokens are signed with a key of their own
  openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
  openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
  etcd_port="$(free_port)" peer_port="$(free_port)" api_port="$(free_port)"
  setsid "$KUBE_BIN_DIR/etcd" --data-dir "$dir/etcd-data" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port" \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
  # all addresses: Pods reach it on the node IP (added to lo only by node-up.sh, later); the
  # `kubernetes` Endpoints name the node IP. Admission plugins: the defaults, ServiceAccount
  # included (Pods get tokens), PodSecurity (namespaces' enforce labels).
  setsid "$KUBE_BIN_DIR/kube-apiserver" --cert-dir "$c" --tls-cert-file "$c/apiserver.crt" \
    --tls-private-key-file "$c/apiserver.key" --secure-port "$api_port" --bind-address 0.0.0.0 \
    --advertise-address "$NODE_IP" \
    --etcd-servers "http://127.0.0.1:$etcd_port" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-signing-key-file "$c/sa.key" --service-account-key-file "$c/sa.pub" \
    --client-ca-file "$c/ca.crt" --service-cluster-ip-range 10.0.0.0/24 --allow-privileged \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-apiserver.pid"
  b64() { base64 -w0 "$1"; }
  cat >"$dir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority-data: "$(b64 "$c/ca.crt")"}
users:
- name: admin
  user: {client-certificate-data: "$(b64 "$c/client.crt")", client-key-data: "$(b64 "$c/client.key")"}
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
