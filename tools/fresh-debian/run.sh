#!/usr/bin/env bash
# Runs one of the README's two commands on a fresh Debian 12 (bookworm), from `git clone` on:
# how they were proven (README, "What the demo and the tests need").
#   run.sh [--keep] [--dir DIR] [--reuse] demo|tests [REV] [-- MVN_ARGS...]
# The fresh machine: a root file system that mmdebstrap makes from Debian's packages (variant
# minbase, plus ca-certificates, git and sudo: what `git clone` and the README's `sudo` need;
# /etc/hosts and LANG=C.UTF-8 as an installed Debian has them; a user `dev` who may sudo), entered
# with pivot_root in a mount and PID namespace of its own (unshare): this machine's kernel and
# network, /proc of its own, /sys (with the cgroups) and /dev (with /dev/pts) bound in, a new
# tmpfs on /run. Nothing of this machine's caches is there (~/.m2, ~/.kubeapitest, Go's caches,
# /var/cache/pgmigrate-tests, /opt/pgmigrate-tools): everything comes from the registries again.
# REV (default HEAD of this repository) is pushed to a bare repository in it, which the fresh
# machine clones; uncommitted changes are not part of it.
#   demo:  as `dev`: git clone, then the README's `sudo bash demo/run.sh`
#   tests: as root: git clone, `bash tools/install-prerequisites.sh`, `mvn -B verify MVN_ARGS...`
#          (the README's test command; MVN_ARGS e.g. to run only some tests). The test node uses
#          the default settings unless PGMIGRATE_NODE_IP, PGMIGRATE_POD_CIDR, PGMIGRATE_BRIDGE,
#          PGMIGRATE_CGROUP_ROOT, PGMIGRATE_CONTAINERD_STORE are set here (a second node while
#          another one runs on this machine): every PGMIGRATE_* variable is passed in.
# Prints the time of each phase and writes the command's output to DIR/MODE-<time>.log. At the
# end (also after a failure or Ctrl-C) every process in the namespace is gone with it, and so are
# its mounts; the root file system is removed unless --keep. --reuse runs again in the one kept in
# DIR (a fresh clone, the caches of the first run: how long a second run takes). DIR defaults to
# /var/tmp/pgmigrate-fresh-debian.<pid>. Needs root, mmdebstrap and unshare, and the network to
# deb.debian.org, Maven Central, the Go module proxy and PyPI.
set -euo pipefail
usage() { echo "usage: $0 [--keep] [--dir DIR] [--reuse] demo|tests [REV] [-- MVN_ARGS...]" >&2; exit 2; }
keep= dir= reuse=
while (($#)); do
  case "$1" in
    --keep) keep=1; shift ;;
    --reuse) reuse=1 keep=1; shift ;;
    --dir) dir="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
mode="${1:-}"; [[ $mode == demo || $mode == tests ]] || usage
shift
rev=HEAD
if (($#)) && [[ $1 != -- ]]; then rev="$1"; shift; fi
mvn_args=()
if (($#)); then [[ $1 == -- ]] || usage; shift; mvn_args=("$@"); fi
((EUID == 0)) || { echo "needs root (mmdebstrap, chroot, mounts)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }

repo="$(cd "$(dirname "$0")/../.." && pwd)"
commit="$(git -C "$repo" rev-parse --verify "$rev^{commit}")"
dir="${dir:-/var/tmp/pgmigrate-fresh-debian.$$}"
mkdir -p "$dir"
dir="$(realpath "$dir")"
root="$dir/rootfs"
if [[ -n $reuse ]]; then
  [[ -d $root/srv ]] || { echo "--reuse: no root file system in $dir" >&2; exit 1; }
else
  [[ ! -e $root ]] || { echo "$root exists: remove it, give another --dir, or --reuse it" >&2; exit 1; }
fi
mirror="${PGMIGRATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${PGMIGRATE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
log="$dir/$mode-$(date +%Y%m%d-%H%M%S).log"
t0=$SECONDS
phases=()
phase() { phases+=("$(printf '%-44s %5d s' "$1" "$2")"); echo "== $1: $2 s"; }

cleanup() {
  local status=$? p
  # the namespace's processes died with its first process; anything still rooted in it is ours
  for p in /proc/[0-9]*; do
    if [[ "$(readlink "$p/root" 2>/dev/null)" == "$root" ]]; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
  done
  if [[ -d $root ]]; then
    if grep -qF " $root/" /proc/self/mountinfo || grep -qF " $root " /proc/self/mountinfo; then
      echo "something is still mounted below $root: not removing it" >&2
    elif [[ -z $keep ]]; then
      rm -rf --one-file-system "$root"
      echo "removed $root"
    else
      echo "kept $root"
    fi
  fi
  if ((${#phases[@]})); then
    echo "== $mode on a fresh Debian 12, commit ${commit:0:12}: exit $status"
    printf '   %s\n' "${phases[@]}"
    printf '   %-44s %5d s\n' "in all" "$((SECONDS - t0))"
    echo "   log: $log"
  fi
}
trap cleanup EXIT

# 1. the fresh machine (kept from an earlier run with --reuse: the second run on a machine)
if [[ -z $reuse ]]; then
  t=$SECONDS
  hostname="$(hostname)"
  mmdebstrap --variant=minbase --mode=root --include=ca-certificates,git,sudo \
    --customize-hook='printf "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n" "'"$hostname"'" >"$1/etc/hosts"' \
    --customize-hook='echo LANG=C.UTF-8 >"$1/etc/default/locale"' \
    --customize-hook='chroot "$1" useradd --create-home --shell /bin/bash --groups sudo dev' \
    --customize-hook='echo "dev ALL=(ALL) NOPASSWD: ALL" >"$1/etc/sudoers.d/dev"; chmod 440 "$1/etc/sudoers.d/dev"' \
    bookworm "$root" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main" >"$dir/mmdebstrap.log" 2>&1 \
    || { tail -n 30 "$dir/mmdebstrap.log" >&2; echo "mmdebstrap failed" >&2; exit 1; }
  phase "fresh Debian 12 root file system (mmdebstrap)" $((SECONDS - t))

  # The CAs this machine trusts beyond Debian's ca-certificates package (added to its bundle by
  # hand or in /usr/local/share/ca-certificates: a TLS-intercepting proxy's, as on the machine this
  # was proven on) are the network's, not this machine's: the fresh machine gets them too, or
  # nothing over https (Maven Central, the Go module proxy, PyPI) would reach it
  mapfile -d '' package_cas < <(find /usr/share/ca-certificates -name '*.crt' -print0)
  n=0
  while IFS= read -r -d '' pem; do
    n=$((n + 1))
    printf '%s\n' "$pem" >"$root/usr/local/share/ca-certificates/local-ca-$n.crt"
  done < <(awk -v bundle=/etc/ssl/certs/ca-certificates.crt '
    { sub(/\r$/, "") }
    /-----BEGIN CERTIFICATE-----/ { body = ""; block = $0; inside = 1; next }
    /-----END CERTIFICATE-----/ {
      block = block "\n" $0; inside = 0
      if (FILENAME != bundle) known[body] = 1
      else if (!(body in known)) printf "%s%c", block, 0
      next
    }
    inside { body = body $0; block = block "\n" $0 }
  ' "${package_cas[@]}" /etc/ssl/certs/ca-certificates.crt)
  if ((n)); then
    chroot "$root" update-ca-certificates >/dev/null 2>&1 || { echo "update-ca-certificates failed" >&2; exit 1; }
    echo "the fresh machine trusts $n CA(s) of this machine's beyond Debian's: $(
      for f in "$root"/usr/local/share/ca-certificates/local-ca-*.crt; do
        openssl x509 -noout -subject -in "$f" 2>/dev/null | sed 's/^subject=//'
      done | paste -sd ';')"
  fi
fi

# 2. the repository to clone: REV as branch main of a bare repository inside
bare=/srv/pgmigrate-operator.git
if [[ -d $root$bare ]]; then chown -R 0:0 "$root$bare"; else git init --quiet --bare --initial-branch=main "$root$bare"; fi
git -C "$repo" push --quiet --force "$root$bare" "$commit:refs/heads/main"
# a new clone each run (the demo's sudo leaves root's files in dev's)
rm -rf --one-file-system "$root/home/dev/pgmigrate-operator" "$root/root/pgmigrate-operator"
# owned by whoever clones it (git refuses a repository of another user)
if [[ $mode == demo ]]; then owner=dev:dev; else owner=root:root; fi
chroot "$root" chown -R "$owner" "$bare"

# 3. the command, in the fresh machine: phases are timed inside, lines starting with "== "
if [[ $mode == demo ]]; then
  # as a user who cloned the repository, the README's command word for word
  inner="runuser -l dev -c 'set -e; t=\$SECONDS; git clone --quiet $bare pgmigrate-operator; cd pgmigrate-operator
    echo \"== git clone: \$((SECONDS - t)) s\"; t=\$SECONDS
    sudo bash demo/run.sh
    echo \"== sudo bash demo/run.sh: \$((SECONDS - t)) s\"'"
else
  q=""
  for a in "${mvn_args[@]}"; do q+=" $(printf '%q' "$a")"; done
  # as root (README, Tests); the node's leftovers are removed even when mvn fails
  inner="set -e; cd /root; t=\$SECONDS; git clone --quiet $bare pgmigrate-operator; cd pgmigrate-operator
    echo \"== git clone: \$((SECONDS - t)) s\"; t=\$SECONDS
    bash tools/install-prerequisites.sh
    echo \"== bash tools/install-prerequisites.sh: \$((SECONDS - t)) s\"; t=\$SECONDS
    status=0; mvn -B verify$q || status=\$?
    echo \"== mvn -B verify$q: \$((SECONDS - t)) s (exit \$status)\"
    if [[ -e operator/target/test-node/node.env ]]; then bash tools/test-node/node-down.sh operator/target/test-node; fi
    exit \$status"
fi
env_in=(HOME=/root "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" TERM=dumb LANG=C.UTF-8)
while IFS='=' read -r name _; do
  [[ $name == PGMIGRATE_* ]] && env_in+=("$name=${!name}")
done < <(env)
t=$SECONDS
status=0
# --kill-child: the namespace, and every process in it, ends with unshare; its mounts are
# private to it. In the background so that Ctrl-C or a TERM to this script ends it at once.
( echo "$BASHPID" >"$dir/unshare.pid"
  exec unshare --mount --propagation private --pid --fork --kill-child bash -c '
  set -e
  root="$1"; shift
  # a mount point, as / is on a real machine: `unshare --mount` (the test kubelet) makes / private
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
  # pivot_root, not chroot: the outside root leaves the namespace, so a container runc starts
  # (or `kubectl exec` joins) sees its own root file system and nothing of this machine
  cd "$root"
  pivot_root . mnt
  umount -l /mnt
  exec /usr/bin/env -i "$@"
' fresh "$root" "${env_in[@]}" /bin/bash -c "$inner" </dev/null ) 2>&1 | tee "$log" &
pipeline=$!
stop_namespace() {
  # unshare ignores TERM while it waits, and the namespace's first process ignores every signal
  # but KILL: first TERM to the others (Java's shutdown hooks take a test node down; the tests'
  # script then runs node-down.sh), a minute later KILL to the first, which ends them all
  local u first p
  u="$(cat "$dir/unshare.pid" 2>/dev/null)" || return 0
  first="$(cat "/proc/$u/task/$u/children" 2>/dev/null)"
  first="${first%% *}"
  [[ -n $first ]] || return 0
  echo "stopping the fresh machine's processes" >&2
  local ns
  ns="$(readlink "/proc/$first/ns/pid")" || return 0
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    if [[ $p != "$first" && "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" == "$ns" ]]; then
      kill -TERM "$p" 2>/dev/null || true
    fi
  done
  for _ in $(seq 120); do kill -0 "$first" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$first" 2>/dev/null || true
}
trap 'stop_namespace; status=143' INT TERM
wait "$pipeline" || status=$((status ? status : $?))
while kill -0 "$pipeline" 2>/dev/null; do wait "$pipeline" || true; done
rm -f "$dir/unshare.pid"
# the phases timed inside: "== NAME: N s" lines (Maven leaves colour resets before some)
while read -r line; do
  [[ $line =~ ^==\ (.*):\ ([0-9]+)\ s( \(exit [0-9]+\))?$ ]] &&
    phases+=("$(printf '%-44s %5d s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")")
done < <(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^== ' || true)
phase "$mode in the fresh machine, all of it" $((SECONDS - t))
exit "$status"
