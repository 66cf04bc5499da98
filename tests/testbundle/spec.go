package testbundle

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultCaps is the small capability set `runc spec` grants; tests that need
// more add them explicitly so every grant is visible in the test itself.
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// DefaultSpec returns the configuration `runc spec` writes (current runc on a
// host that is not cgroup-v2-only), except that terminal is false so tests can
// capture stdio without a console socket.
func DefaultSpec() *specs.Spec {
	caps := func() []string { return append([]string(nil), defaultCaps...) }
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Terminal: false,
			Args:     []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd:             "/",
			NoNewPrivileges: true,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps(),
				Effective: caps(),
				Permitted: caps(),
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Hostname: "runc",
		Mounts:   defaultMounts(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				"/proc/sched_debug", "/sys/firmware", "/proc/scsi",
				"/sys/devices/virtual/tpm",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}

func defaultMounts() []specs.Mount {
	noSuidExecDev := []string{"nosuid", "noexec", "nodev"}
	with := func(extra ...string) []string {
		return append(append([]string(nil), noSuidExecDev...), extra...)
	}
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: with("mode=1777", "size=65536k")},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: with()},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: with("ro")},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: with("relatime", "ro")},
	}
}
