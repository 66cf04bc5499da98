#!/usr/bin/env bash
# Builds a throwaway busybox bundle and runs one container with runo.
# Usage: tests/demo.sh /abs/path/to/runo
set -euo pipefail

runo=${1:?usage: demo.sh /path/to/runo}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "demo: $busybox missing (make deps installs busybox-static)" >&2; exit 1; }

work=$(mktemp -d /tmp/runo-demo.XXXXXX)
root="$work/state"
id="demo-$$"
cleanup() {
	"$runo" --root "$root" delete -f "$id" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

bundle="$work/bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" \
	"$bundle/rootfs/dev" "$bundle/rootfs/tmp" "$bundle/rootfs/etc" "$root"
cp "$busybox" "$bundle/rootfs/bin/busybox"
for applet in sh echo id hostname cat ls; do
	ln -s busybox "$bundle/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$bundle/rootfs/etc/passwd"
printf 'root:x:0:\n' >"$bundle/rootfs/etc/group"

(cd "$bundle" && "$runo" spec)
# Non-interactive: no terminal, and a command that prints and exits.
sed -i \
	-e 's/"terminal": true/"terminal": false/' \
	-e 's/"hostname": "[^"]*"/"hostname": "runo-demo"/' \
	"$bundle/config.json"
sed -i -E 's/^([[:space:]]*)"sh"[[:space:]]*$/\1"sh", "-c", "echo hello from runo: $(hostname); id"/' "$bundle/config.json"
grep -q 'hello from runo' "$bundle/config.json" || {
	echo "demo: could not set process.args in $bundle/config.json" >&2
	exit 1
}

echo "+ runo run --bundle $bundle $id"
"$runo" --root "$root" run --bundle "$bundle" "$id"
