package integration

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// statusFields parses "Key:\tvalue" lines of /proc/self/status.
func statusFields(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// capMask is the /proc/<pid>/status rendering of a capability set.
func capMask(bits ...int) string {
	var m uint64
	for _, b := range bits {
		m |= 1 << b
	}
	return fmt.Sprintf("%016x", m)
}

const (
	capChown          = 0
	capDacOverride    = 1
	capKill           = 5
	capNetBindService = 10
	capNetRaw         = 13
	capSysAdmin       = 21
	capAuditWrite     = 29
)

func TestProcessAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(s *specs.Spec)
		want   map[string]string
	}{
		{
			name:   "default spec",
			mutate: func(s *specs.Spec) {},
			want: map[string]string{
				"Uid": "0\t0\t0\t0", "Gid": "0\t0\t0\t0", "Groups": "",
				"CapBnd": capMask(capKill, capNetBindService, capAuditWrite),
				"CapEff": capMask(capKill, capNetBindService, capAuditWrite),
				"CapPrm": capMask(capKill, capNetBindService, capAuditWrite),
				"CapInh": capMask(), "CapAmb": capMask(),
				"NoNewPrivs": "1",
			},
		},
		{
			// A non-root exec keeps only ambient caps in permitted and
			// effective (no file capabilities on busybox).
			name: "non-root with ambient",
			mutate: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}
				s.Process.NoNewPrivileges = false
				s.Process.Capabilities = &specs.LinuxCapabilities{
					Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
					Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
					Permitted:   []string{"CAP_CHOWN", "CAP_KILL"},
					Inheritable: []string{"CAP_CHOWN", "CAP_NET_RAW"},
					Ambient:     []string{"CAP_CHOWN"},
				}
			},
			want: map[string]string{
				"Uid": "1000\t1000\t1000\t1000", "Gid": "1001\t1001\t1001\t1001", "Groups": "10 20",
				"CapBnd":     capMask(capChown, capKill, capNetRaw),
				"CapInh":     capMask(capChown, capNetRaw),
				"CapPrm":     capMask(capChown),
				"CapEff":     capMask(capChown),
				"CapAmb":     capMask(capChown),
				"NoNewPrivs": "0",
			},
		},
		{
			name: "root with sys_admin and no bounding extras",
			mutate: func(s *specs.Spec) {
				s.Process.Capabilities = &specs.LinuxCapabilities{
					Bounding:  []string{"CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"},
					Effective: []string{"CAP_SYS_ADMIN"},
					Permitted: []string{"CAP_SYS_ADMIN"},
				}
			},
			want: map[string]string{
				"CapBnd": capMask(capSysAdmin, capDacOverride),
				"CapPrm": capMask(capSysAdmin),
				"CapEff": capMask(capSysAdmin),
				"CapInh": capMask(), "CapAmb": capMask(),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := statusFields(runOut(t, tc.mutate, "cat", "/proc/self/status"))
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestProcessSettings(t *testing.T) {
	t.Parallel()
	var hostNofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hostNofile); err != nil {
		t.Fatal(err)
	}
	// Raising a hard limit needs CAP_SYS_RESOURCE, which the container
	// lacks: stay at or under the host's hard limit.
	nofile := uint64(256)
	if hostNofile.Max < nofile {
		nofile = hostNofile.Max
	}
	umask := uint32(0o027)
	oom := 345
	tests := []struct {
		name   string
		mutate func(s *specs.Spec)
		args   []string
		want   string
	}{
		{"umask", func(s *specs.Spec) { s.Process.User.Umask = &umask }, sh("umask"), "0027\n"},
		{"rlimit nofile", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: nofile / 2, Hard: nofile}}
		}, sh("ulimit -n; ulimit -H -n"), fmt.Sprintf("%d\n%d\n", nofile/2, nofile)},
		{"rlimit nproc", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 77, Hard: 77})
		}, sh("grep 'Max processes' /proc/self/limits | awk '{print $3, $4}'"), "77 77\n"},
		// Address-space limits below what init's Go runtime has reserved (about 1.2 GiB):
		// applied any earlier than right before execve, they starve init ("runtime: cannot
		// allocate memory"). runtime-tools' process_rlimits sets RLIMIT_AS to 1 GiB.
		{"rlimit as and data under init's reservations", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits,
				specs.POSIXRlimit{Type: "RLIMIT_AS", Soft: 256 << 20, Hard: 512 << 20},
				specs.POSIXRlimit{Type: "RLIMIT_DATA", Soft: 64 << 20, Hard: 64 << 20})
		}, sh("grep -E 'Max (address space|data size)' /proc/self/limits | awk '{print $4, $5}'"),
			fmt.Sprintf("%d %d\n%d %d\n", 64<<20, 64<<20, 256<<20, 512<<20)},
		{"oomScoreAdj", func(s *specs.Spec) { s.Process.OOMScoreAdj = &oom }, []string{"cat", "/proc/self/oom_score_adj"}, "345\n"},
		{"cwd", func(s *specs.Spec) { s.Process.Cwd = "/tmp" }, []string{"pwd"}, "/tmp\n"},
		{"cwd created when missing", func(s *specs.Spec) {
			s.Process.Cwd = "/new/work/dir"
			s.Root.Readonly = false
		}, []string{"pwd"}, "/new/work/dir\n"},
		{"env", func(s *specs.Spec) {
			s.Process.Env = []string{"PATH=/bin", "FOO=bar baz", "EMPTY="}
		}, sh("env | grep -v '^PWD=\\|^SHLVL=\\|^HOME=\\|^_=' | sort"), "EMPTY=\nFOO=bar baz\nPATH=/bin\n"},
		{"args exec", nil, []string{"echo", "a b", "c"}, "a b c\n"},
		{"sysctl in new netns", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.domainname": "sysctl.test"}
		}, sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname"), "1\nsysctl.test\n"},
	}
	hostForward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runOut(t, tc.mutate, tc.args...)
			if got != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
		})
	}
	t.Cleanup(func() {
		if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(hostForward) {
			t.Errorf("host net.ipv4.ip_forward changed: %q -> %q", hostForward, now)
		}
	})
}

// TestUnknownUser: a uid/gid without /etc/passwd or /etc/group entries runs
// with exactly those ids.
func TestUnknownUser(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t)
	b.Mutate(func(s *specs.Spec) { s.Process.User = specs.User{UID: 4242, GID: 4343} })
	out := b.MustRunOK(sh("id -u; id -g")...)
	if out != "4242\n4343\n" {
		t.Errorf("ids = %q", out)
	}
}
