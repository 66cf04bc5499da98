package rootfs

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzContainerPaths: every mount destination, device path and masked path
// of an untrusted config goes through cleanInRoot before it is resolved in
// the root, and through checkProcMount before anything is mounted. Whatever
// the input, the cleaned path must be absolute, clean and free of ".."
// (so resolution starts at the container root and never climbs out of it
// lexically), and checkProcMount must never let a non-procfs mount cover
// /proc or land inside it except on the documented allow-list.
func FuzzContainerPaths(f *testing.F) {
	for _, s := range []string{"", "/", ".", "..", "../../etc", "/proc", "proc", "/proc/", "/proc/../proc",
		"/proc/sys", "/proc//sys/kernel/core_pattern", "/proc/self/attr/exec", "/proc/cpuinfo", "/proc/sys/kernel/ns_last_pid",
		"/proc/./meminfo", "/dev/../proc/kcore", "//proc", "/procfoo", "/x/../../proc/sys", "a/b/../../../c", "/\x00/proc"} {
		f.Add(s, "tmpfs")
		f.Add(s, "proc")
	}
	allowed := map[string]bool{"/proc/cpuinfo": true, "/proc/diskstats": true, "/proc/meminfo": true, "/proc/stat": true,
		"/proc/swaps": true, "/proc/uptime": true, "/proc/loadavg": true, "/proc/slabinfo": true, "/proc/pressure/cpu": true,
		"/proc/pressure/io": true, "/proc/pressure/memory": true, "/proc/net/dev": true, "/proc/sys/kernel/ns_last_pid": true}
	f.Fuzz(func(t *testing.T, p, fstype string) {
		c := cleanInRoot(p)
		if !filepath.IsAbs(c) || filepath.Clean(c) != c {
			t.Fatalf("cleanInRoot(%q) = %q: not absolute and clean", p, c)
		}
		for _, part := range strings.Split(c, "/") {
			if part == ".." {
				t.Fatalf("cleanInRoot(%q) = %q keeps a '..'", p, c)
			}
		}
		if cleanInRoot(c) != c {
			t.Fatalf("cleanInRoot is not idempotent on %q", c)
		}
		if checkProcMount(c, fstype, nil) != nil {
			return
		}
		switch {
		case c == "/proc" && fstype != "proc":
			t.Fatalf("checkProcMount let a %q mount cover /proc", fstype)
		case strings.HasPrefix(c, "/proc/") && !allowed[c]:
			t.Fatalf("checkProcMount let a %q mount land inside /proc at %q", fstype, c)
		}
	})
}
