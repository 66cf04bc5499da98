package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

var nsNames = []string{"pid", "net", "mnt", "ipc", "uts", "cgroup", "user", "time"}

// nsScript prints "<ns> <readlink /proc/self/ns/ns>" per namespace.
var nsScript = "for n in " + strings.Join(nsNames, " ") + "; do echo $n $(readlink /proc/self/ns/$n); done"

func parseNS(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	if len(got) != len(nsNames) {
		t.Fatalf("namespace listing incomplete:\n%s", out)
	}
	return got
}

// holder starts a host process in fresh net/ipc/uts namespaces for
// containers to join by path; it is killed in cleanup.
func holder(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "--ipc", "--uts", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start namespace holder: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare execs sleep once its namespaces exist.
	host := testbundle.HostNamespace(t, "net")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err == nil && l != host {
			return cmd.Process.Pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("namespace holder %d never left the host netns", cmd.Process.Pid)
	return 0
}

func userMapping(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	// A v1 cgroup filesystem cannot be mounted from a user namespace
	// without a cgroup namespace; the test is about ids, not cgroups.
	removeMount(s, "/sys/fs/cgroup")
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	host := map[string]string{}
	for _, n := range nsNames {
		host[n] = testbundle.HostNamespace(t, n)
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, s *specs.Spec) map[string]string // joined targets
		differ []string                                            // must differ from host
		same   []string                                            // must equal host
	}{
		{
			name:   "default spec",
			differ: []string{"pid", "net", "mnt", "ipc", "uts"},
			same:   []string{"cgroup", "user", "time"},
		},
		{
			name: "host network and ipc",
			mutate: func(t *testing.T, s *specs.Spec) map[string]string {
				removeNamespace(s, specs.NetworkNamespace)
				removeNamespace(s, specs.IPCNamespace)
				// /sys cannot be mounted fresh without owning the netns.
				removeMount(s, "/sys/fs/cgroup")
				removeMount(s, "/sys")
				return nil
			},
			differ: []string{"pid", "mnt", "uts"},
			same:   []string{"net", "ipc", "cgroup", "user", "time"},
		},
		{
			name: "new cgroup",
			mutate: func(t *testing.T, s *specs.Spec) map[string]string {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
				return nil
			},
			differ: []string{"cgroup"},
			same:   []string{"user", "time"},
		},
		{
			name: "new user",
			mutate: func(t *testing.T, s *specs.Spec) map[string]string {
				userMapping(s)
				return nil
			},
			differ: []string{"user", "pid", "net"},
			same:   []string{"time", "cgroup"},
		},
		{
			// runc before 1.2 has no time namespace support.
			name: "new time",
			mutate: func(t *testing.T, s *specs.Spec) map[string]string {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
				return nil
			},
			differ: []string{"time"},
			same:   []string{"user", "cgroup"},
		},
		{
			name: "join net ipc uts by path",
			mutate: func(t *testing.T, s *specs.Spec) map[string]string {
				pid := holder(t)
				joined := map[string]string{}
				for typ, n := range map[specs.LinuxNamespaceType]string{
					specs.NetworkNamespace: "net", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts",
				} {
					p := fmt.Sprintf("/proc/%d/ns/%s", pid, n)
					setNamespace(s, typ, p)
					target, err := os.Readlink(p)
					if err != nil {
						t.Fatal(err)
					}
					joined[n] = target
				}
				// Joining a uts namespace forbids setting a hostname.
				s.Hostname = ""
				return joined
			},
			differ: []string{"pid", "mnt"},
			same:   []string{"user", "cgroup", "time"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t)
			var joined map[string]string
			if tc.mutate != nil {
				joined = tc.mutate(t, b.Spec)
			}
			got := parseNS(t, b.MustRunOK(sh(nsScript)...))
			for _, n := range tc.differ {
				if got[n] == host[n] {
					t.Errorf("%s namespace %s is the host's; want a new one", n, got[n])
				}
			}
			for _, n := range tc.same {
				if got[n] != host[n] {
					t.Errorf("%s namespace %s, want the host's %s", n, got[n], host[n])
				}
			}
			for n, want := range joined {
				if got[n] != want {
					t.Errorf("%s namespace %s, want joined %s", n, got[n], want)
				}
				if got[n] == host[n] {
					t.Errorf("%s namespace is the host's, not the joined one", n)
				}
			}
		})
	}
}

func TestUserNamespaceMappings(t *testing.T) {
	t.Parallel()
	out := runOut(t, userMapping, sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")...)
	fields := strings.Fields(out)
	want := []string{"0", "100000", "65536", "0", "200000", "65536", "0", "0"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("uid_map/gid_map/ids = %q, want %q", fields, want)
	}
}

// TestTimeNamespaceOffsets: offsets appear in timens_offsets and shift
// CLOCK_BOOTTIME (seen through /proc/uptime). runc before 1.2 lacks this.
func TestTimeNamespaceOffsets(t *testing.T) {
	t.Parallel()
	const shift = 7 * 24 * 3600
	out := runOut(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"monotonic": {Secs: 3600, Nanosecs: 5},
			"boottime":  {Secs: shift},
		}
	}, sh("cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	offsets := strings.Join(strings.Fields(lines[0]), " ") + "|" + strings.Join(strings.Fields(lines[1]), " ")
	if offsets != "monotonic 3600 5|boottime 604800 0" {
		t.Errorf("timens_offsets = %q", offsets)
	}
	var inside, host int64
	fmt.Sscan(lines[2], &inside)
	hostUp, _ := os.ReadFile("/proc/uptime")
	fmt.Sscan(strings.Split(string(hostUp), ".")[0], &host)
	if d := inside - host; d < shift-5 || d > shift+5 {
		t.Errorf("uptime inside %d, host %d: difference %d, want ≈%d", inside, host, d, shift)
	}
}

// runc before 1.2 ignores domainname.
func TestHostnameDomainname(t *testing.T) {
	t.Parallel()
	out := runOut(t, func(s *specs.Spec) {
		s.Hostname = "box-one"
		s.Domainname = "example.test"
	}, sh("hostname; cat /proc/sys/kernel/domainname")...)
	if out != "box-one\nexample.test\n" {
		t.Errorf("hostname/domainname = %q", out)
	}
	host, _ := os.Hostname()
	if host == "box-one" {
		t.Errorf("host hostname changed")
	}
}
