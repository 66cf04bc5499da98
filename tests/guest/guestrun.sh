#!/bin/bash
# guestrun.sh - run one command as root in a throwaway qemu guest whose only
# cgroup hierarchy is cgroup v2 (every controller enabled at the root), and exit
# with the command's status.  runo's `make test-cgroupv2` / `make test-lsm` use it.
#
# Everything comes from Debian packages: the kernel is the linux-image package
# that linux-image-amd64 depends on (apt-get download + dpkg -x, never
# installed), the userland is busybox-static, and -p adds unpacked packages.
# Host directories are shared over virtio-9p at the same path.  Downloads and
# builds are cached in $RUNO_GUEST_CACHE (default ~/.cache/runo-guest).
#
# Host needs: qemu-system-x86, apt/dpkg, xz-utils, cpio-capable busybox
# (busybox-static), binutils-free: nothing is compiled here.
#
# Exit status: the command's; 124 when -t expires; 125 when the guest gave no
# status (boot failure, panic: the kernel console tail is printed); 2 on usage.
set -euo pipefail

me=${0##*/}
cache=${RUNO_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runo-guest}

usage() {
	cat <<EOF
usage: $me [options] -- COMMAND [ARG...]
  -s DIR[:ro]    share host DIR at the same path in the guest (repeatable)
  -w DIR         working directory of COMMAND (default: first share, else /)
  -e NAME=VALUE  environment for COMMAND (repeatable)
  -l LSM         apparmor (default), selinux (permissive, policy from -P) or none
  -P FILE        binary SELinux policy that the guest loads before COMMAND
  -p PKG         apt-get download PKG and unpack it into the guest (repeatable;
                 no dependency resolution, ELF libraries come from the host)
  -L FILE        pack the shared libraries FILE needs (not FILE) (repeatable)
  -t SECS        wall-clock limit for the whole run (default 900)
  -m MIB         guest memory (default 1536)
  -v             kernel console on stderr
EOF
}

fail() { echo "$me: $*" >&2; exit 125; }
trap 'echo "$me: line $LINENO: command failed" >&2; exit 125' ERR

shares=() envs=() pkgs=() libsof=()
workdir='' lsm=apparmor sepolicy='' timeout=900 mem=1536 verbose=0
while getopts 's:w:e:l:P:p:L:t:m:vh' o; do
	case $o in
	s) shares+=("$OPTARG");;
	w) workdir=$OPTARG;;
	e) envs+=("$OPTARG");;
	l) lsm=$OPTARG;;
	P) sepolicy=$(readlink -f "$OPTARG");;
	p) pkgs+=("$OPTARG");;
	L) libsof+=("$(readlink -f "$OPTARG")");;
	t) timeout=$OPTARG;;
	m) mem=$OPTARG;;
	v) verbose=1;;
	h) usage; exit 0;;
	*) usage >&2; exit 2;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { usage >&2; exit 2; }
case $lsm in apparmor|selinux|none) ;; *) echo "$me: -l: unknown LSM $lsm" >&2; exit 2;; esac
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"

mkdir -p "$cache"
# One build at a time per cache; runs themselves proceed in parallel.
exec 8>"$cache/lock"
flock 8

download() {  # download DIR PKG: the .deb of PKG in DIR (cached)
	local dir=$1 pkg=$2
	if ! ls "$dir"/*.deb >/dev/null 2>&1; then
		rm -rf "$dir.part"; mkdir -p "$dir.part"
		(cd "$dir.part" && apt-get download -q "$pkg") >"$dir.part/log" 2>&1 ||
			{ cat "$dir.part/log" >&2; fail "apt-get download $pkg failed (apt-get update?)"; }
		rm -f "$dir.part/log"; rm -rf "$dir"; mv "$dir.part" "$dir"
	fi
	ls "$dir"/*.deb
}

# ---- busybox: the guest's whole userland
busybox=$cache/busybox
if [ ! -x "$busybox" ]; then
	if [ -x /bin/busybox ] && /bin/busybox --list | grep -qx cpio && ! ldd /bin/busybox >/dev/null 2>&1; then
		cp /bin/busybox "$busybox.part"
	else
		deb=$(download "$cache/debs/busybox-static" busybox-static)
		rm -rf "$cache/bb.x"; dpkg -x "$deb" "$cache/bb.x"; cp "$cache/bb.x/bin/busybox" "$busybox.part"; rm -rf "$cache/bb.x"
	fi
	mv "$busybox.part" "$busybox"
fi

# ---- kernel: Debian's, booted as an ELF vmlinux through its PVH entry (no
# in-guest decompression, which is slow under software emulation).
modules_wanted="virtio_pci virtio_console 9pnet_virtio 9p bfq"
kpkg=${RUNO_GUEST_KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
	if [ -f "$cache/kernel.pkg" ]; then
		kpkg=$(cat "$cache/kernel.pkg")
	else
		kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
		[ -n "$kpkg" ] || fail "cannot tell which kernel linux-image-amd64 depends on (apt-get update?)"
		echo "$kpkg" >"$cache/kernel.pkg"
	fi
fi
kdir=$cache/kernel/$kpkg
if [ ! -f "$kdir/vmlinux" ]; then
	echo "$me: preparing kernel $kpkg" >&2
	deb=$(download "$cache/debs/$kpkg" "$kpkg")
	rm -rf "$kdir.part"; mkdir -p "$kdir.part"
	dpkg -x "$deb" "$kdir.part/x"
	kver=$(ls "$kdir.part/x/lib/modules")
	bz=$kdir.part/x/boot/vmlinuz-$kver
	# bzImage: the compressed kernel starts payload_offset (0x248) bytes into the
	# protected-mode part, which follows (setup_sects (0x1f1) + 1) sectors.
	setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	payload=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
	# xz stops after its stream, so tail may die of SIGPIPE: check the result instead.
	{ tail -c +$(((setup_sects + 1) * 512 + payload + 1)) "$bz" | xz -dc --single-stream >"$kdir.part/vmlinux"; } 2>/dev/null || true
	[ "$(head -c4 "$kdir.part/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || fail "cannot decompress $bz (not xz?)"
	moddir=$kdir.part/x/lib/modules/$kver
	"$busybox" depmod -b "$kdir.part/x" "$kver" 2>/dev/null || true
	# The modules we load, dependencies first, one path per line.
	awk -v want="$modules_wanted" '
		{ f = $1; sub(/:$/, "", f); n = f; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
		  file[n] = f; deps[f] = ""; for (i = 2; i <= NF; i++) deps[f] = deps[f] " " $i }
		function emit(f,  d, k, i) { if (f in done) return; done[f] = 1
			k = split(deps[f], d, " "); for (i = k; i >= 1; i--) emit(d[i]); print f }
		END { k = split(want, w, " "); for (i = 1; i <= k; i++) {
			if (!(w[i] in file)) { print "no module " w[i] > "/dev/stderr"; exit 1 }; emit(file[w[i]]) } }
	' "$moddir/modules.dep" >"$kdir.part/modules.list" || fail "module list"
	mkdir -p "$kdir.part/modules"
	while read -r m; do cp "$moddir/$m" "$kdir.part/modules/"; done <"$kdir.part/modules.list"
	sed 's,.*/,,' "$kdir.part/modules.list" >"$kdir.part/modules/order"
	echo "$kver" >"$kdir.part/kver"
	rm -rf "$kdir.part/x" "$kdir"; mv "$kdir.part" "$kdir"
fi

# ---- initramfs
# PID 1.  The initramfs is the kernel's rootfs, which pivot_root(2) cannot
# leave, and runtimes pivot_root into their containers; so the first stage
# makes / a bind mount of itself and chroots into that.
init_script='#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ "$1" != rebased ]; then
	mkdir -p /rebase && mount --bind / /rebase && cd /rebase && mount --move . / && exec chroot . /init rebased
	echo "guest-init: cannot rebase / (pivot_root will fail)"
fi
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t securityfs -o nosuid,nodev,noexec securityfs /sys/kernel/security
mount -t bpf -o nosuid,nodev,noexec,mode=0700 bpf /sys/fs/bpf
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
while read -r m; do insmod /lib/modules/$m; done < /lib/modules/order
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo +$c > /sys/fs/cgroup/cgroup.subtree_control; done
hostname runo-guest; ip link set lo up
p9=trans=virtio,version=9p2000.L,msize=262144,cache=mmap
mkdir -p /run/ctl && mount -t 9p -o $p9 ctl /run/ctl || { echo "guest-init: no control share"; poweroff -f; }
while read -r tag mode dir; do
	mkdir -p "$dir" && mount -t 9p -o $p9,$mode "$tag" "$dir" || echo "guest-init: cannot mount $dir"
done < /run/ctl/shares
if [ -f /run/ctl/selinux.policy ]; then
	mount -t selinuxfs selinuxfs /sys/fs/selinux && cat /run/ctl/selinux.policy > /sys/fs/selinux/load ||
		echo "guest-init: SELinux policy load failed"
fi
out=/dev/console
for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = out ] && out=/dev/${p##*/}; done
echo 1 > /proc/sys/kernel/printk
HOME=/root RUNO_GUEST=1 sh /run/ctl/cmd < /dev/null > $out 2>&1
echo $? > /run/ctl/rc
sync
poweroff -f
'

key=$( {
	echo "$init_script"; cat "$kdir/kver" "$kdir/modules/order"; sha256sum "$busybox"
	# ldd fails on a static binary, which needs nothing.
	echo "${pkgs[*]}"; for f in "${libsof[@]}"; do { ldd "$f" 2>/dev/null || true; } | awk '{print $1}'; done
} | sha256sum | cut -c1-16)
initrd=$cache/initrd-$key.cpio
if [ ! -f "$initrd" ]; then
	echo "$me: building $initrd" >&2
	st=$cache/stage.$$; rm -rf "$st"; trap 'rm -rf "$st"' EXIT
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,lib/modules}
	cp "$busybox" "$st/bin/busybox"
	for a in $("$busybox" --list-full); do [ -e "$st/$a" ] || ln -s /bin/busybox "$st/$a"; done
	printf '%s' "$init_script" >"$st/init"; chmod 755 "$st/init"
	cp "$kdir"/modules/* "$st/lib/modules/"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$st/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$st/etc/group"
	printf '127.0.0.1 localhost runo-guest\n' >"$st/etc/hosts"
	add_libs() {  # add_libs ELF: copy the host libraries ELF links against
		local lib
		for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
			[ -e "$st$lib" ] || { mkdir -p "$st${lib%/*}"; cp -L "$lib" "$st$lib"; }
		done
	}
	for f in "${libsof[@]}"; do add_libs "$f"; done
	for p in "${pkgs[@]}"; do
		deb=$(download "$cache/debs/$p" "$p")
		dpkg -x "$deb" "$st.pkg"
		while read -r f; do
			[ "$(head -c4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && add_libs "$f"
		done < <(find "$st.pkg" -type f -perm -u+x)
		cp -a "$st.pkg/." "$st/"; rm -rf "$st.pkg"
	done
	(cd "$st" && find . -mindepth 1 | "$busybox" cpio -o -H newc 2>/dev/null) >"$initrd.part"
	mv "$initrd.part" "$initrd"; rm -rf "$st"; trap - EXIT
fi
flock -u 8

# ---- run
ctl=$(mktemp -d "$cache/run.XXXXXX")
qpid='' tpid=''
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	[ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

qargs=(-nodefaults -no-user-config -display none -no-reboot -m "$mem" -smp 2
	-machine pc -cpu max
	-kernel "$kdir/vmlinux" -initrd "$initrd"
	-serial "file:$ctl/console"
	-device virtio-serial-pci -chardev "file,id=out,path=$ctl/out" -device virtserialport,chardev=out,name=out
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none")
# qboot (qemu-system-data) starts the kernel sooner than the default SeaBIOS.
if [ -f /usr/share/qemu/qboot.rom ]; then qargs+=(-bios /usr/share/qemu/qboot.rom); fi
# KVM only with hardware virtualization: a /dev/kvm without vmx/svm (such as
# kvm_pvm) runs a stock kernel far slower than software emulation.
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then
	qargs+=(-accel kvm)
else
	qargs+=(-accel tcg,thread=multi,tb-size=256)
fi
: >"$ctl/shares"
i=0
for s in "${shares[@]}"; do
	dir=${s%:ro} mode=rw ro=''
	[ "$dir" = "$s" ] || { mode=ro; ro=,readonly=on; }
	dir=$(readlink -f "$dir"); [ -d "$dir" ] || fail "share $dir: not a directory"
	qargs+=(-virtfs "local,path=$dir,mount_tag=s$i,security_model=none$ro")
	echo "s$i $mode $dir" >>"$ctl/shares"
	[ -n "$workdir" ] || workdir=$dir
	i=$((i + 1))
done
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo "cd $(quote "${workdir:-/}") || exit 125"
	for e in "${envs[@]}"; do echo "export $(quote "$e")"; done
	printf 'exec'; for a in "$@"; do printf ' %s' "$(quote "$a")"; done; echo
} >"$ctl/cmd"
if [ -n "$sepolicy" ]; then cp "$sepolicy" "$ctl/selinux.policy"; fi

cmdline="console=ttyS0 panic=-1 quiet cgroup_no_v1=all cryptomgr.notests acpi=noirq mitigations=off nowatchdog"
cmdline+=" rcupdate.rcu_cpu_stall_suppress=1 i8042.noaux i8042.nomux i8042.nopnp"
case $lsm in
apparmor) cmdline+=" security=apparmor apparmor=1";;
selinux) cmdline+=" security=selinux selinux=1 enforcing=0";;
none) cmdline+=" lsm=landlock,lockdown,yama,integrity,bpf";;
esac
[ $verbose = 0 ] || cmdline=${cmdline/ quiet/}

: >"$ctl/out"; : >"$ctl/console"
start=$(date +%s)
timeout -k 5 "$timeout" qemu-system-x86_64 "${qargs[@]}" -append "$cmdline" </dev/null &
qpid=$!
# The command's output streams through a virtio port into $ctl/out; tail
# drains what is left once qemu is gone.
if [ $verbose = 1 ]; then tail -n +1 -f --pid="$qpid" "$ctl/console" >&2 & fi
tail -n +1 -f --pid="$qpid" "$ctl/out" &
tpid=$!
qrc=0; wait "$qpid" || qrc=$?
qpid=''
wait "$tpid" || true; tpid=''
echo "$me: guest ran $(($(date +%s) - start)) s" >&2
if [ -f "$ctl/rc" ]; then exit "$(cat "$ctl/rc")"; fi
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	echo "$me: timed out after $timeout s; kernel console tail:" >&2; tail -n 20 "$ctl/console" >&2 || true
	exit 124
fi
echo "$me: the guest returned no status (qemu exit $qrc); kernel console tail:" >&2
tail -n 40 "$ctl/console" >&2 || true
exit 125
