#!/usr/bin/env bash
# Installs the Debian packages given as arguments that are not installed yet, and runs
# `apt-get update` only when something is missing. -n: without recommended packages.
set -euo pipefail
opts=()
if [ "${1:-}" = "-n" ]; then
	opts+=(--no-install-recommends)
	shift
fi
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${opts[@]}" "${missing[@]}" >/dev/null
