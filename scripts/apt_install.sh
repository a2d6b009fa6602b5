#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet: one
# `apt-get update`, then one `apt-get install`. Idempotent and quiet when
# everything is there. CI runs as root; elsewhere sudo is used.
# Usage: bash scripts/apt_install.sh PACKAGE...
set -euo pipefail
missing=()
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
