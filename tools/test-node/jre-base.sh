#!/usr/bin/env bash
# Links LINK to the JRE 17 base image's tar that images.sh builds (cached; its name changes with
# the recipe): the base of the operator's test image (Jib, operator/pom.xml).
#   jre-base.sh LINK
set -euo pipefail
(($# == 1)) || { echo "usage: $0 LINK" >&2; exit 2; }
tar="$("$(dirname "$0")/images.sh" | awk '$1 == "docker.io/pgmigrate/jre-base:17" {print $2}')"
[[ -s $tar ]] || { echo "images.sh built no JRE base image" >&2; exit 1; }
mkdir -p "$(dirname "$1")"
ln -sfn "$tar" "$1"
