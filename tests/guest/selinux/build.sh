#!/bin/bash
# build.sh POLICY.cil OUT - compile the guest's SELinux policy with secilc from
# Debian's secilc and libsepol2 packages, downloaded and unpacked (never
# installed) into $RUNO_GUEST_CACHE (default ~/.cache/runo-guest).
set -euo pipefail
cil=$1 out=$2
cache=${RUNO_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runo-guest}
tools=$cache/selinux-tools
if [ ! -x "$tools/usr/bin/secilc" ]; then
	rm -rf "$tools.part"; mkdir -p "$tools.part/debs"
	(cd "$tools.part/debs" && apt-get download -q secilc libsepol2) >/dev/null 2>&1 ||
		{ echo "build.sh: apt-get download secilc libsepol2 failed (apt-get update?)" >&2; exit 1; }
	for d in "$tools.part"/debs/*.deb; do dpkg -x "$d" "$tools.part"; done
	rm -rf "$tools.part/debs" "$tools"; mv "$tools.part" "$tools"
fi
# Policy version 33 is what Debian's 6.1 kernel and newer load.
LD_LIBRARY_PATH=$tools/lib/x86_64-linux-gnu:$tools/usr/lib/x86_64-linux-gnu \
	"$tools/usr/bin/secilc" --mls=true --policyvers=33 --output="$out.part" --filecontext=/dev/null "$cil"
mv "$out.part" "$out"
