package libcontainer

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func baseSpec() *specs.Spec {
	return &specs.Spec{
		Version: "1.0.2",
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.UTSNamespace},
			{Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
		}},
	}
}

func TestValidate(t *testing.T) {
	i64 := func(v int) *int { return &v }
	tests := []struct {
		name    string
		mutate  func(*specs.Spec)
		wantErr string // substring naming the field; "" = valid
	}{
		{"valid", func(*specs.Spec) {}, ""},
		{"version 1.3.0", func(s *specs.Spec) { s.Version = "1.3.0" }, ""},
		{"version with prerelease", func(s *specs.Spec) { s.Version = "1.0.2-dev" }, ""},
		{"version too new", func(s *specs.Spec) { s.Version = "1.9.0" }, "ociVersion"},
		{"version 2", func(s *specs.Spec) { s.Version = "2.0.0" }, "ociVersion"},
		{"version garbage", func(s *specs.Spec) { s.Version = "latest" }, "ociVersion"},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root.path"},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }, "linux"},
		{"empty args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd"},
		{"bad env", func(s *specs.Spec) { s.Process.Env = []string{"NOEQUALS"} }, "process.env"},
		{"unknown capability", func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_BOGUS"}}
		}, "CAP_BOGUS"},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}}
		}, "process.rlimits"},
		{"rlimit soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}
		}, "process.rlimits"},
		{"rlimit twice", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_NOFILE"}}
		}, "listed twice"},
		{"huge cpu range", func(s *specs.Spec) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0-2000000000"}
		}, "process.execCPUAffinity.final"},
		{"bad initial cpu list", func(s *specs.Spec) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "1,x"}
		}, "process.execCPUAffinity.initial"},
		{"valid cpu affinity", func(s *specs.Spec) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "0-1"}
		}, ""},
		{"oom score out of range", func(s *specs.Spec) { s.Process.OOMScoreAdj = i64(1001) }, "process.oomScoreAdj"},
		{"unknown namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, "bogus"},
		{"namespace twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "more than once"},
		{"relative namespace path", func(s *specs.Spec) {
			s.Linux.Namespaces[3].Path = "proc/1/ns/net"
		}, "not absolute"},
		{"namespace path of wrong type", func(s *specs.Spec) {
			s.Linux.Namespaces[3].Path = "/proc/self/ns/ipc"
		}, "not a network namespace"},
		// Like runc: without a mount namespace the process runs on the host's filesystem.
		{"no mount namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:1]
		}, ""},
		{"mappings without userns", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, "linux.uidMappings"},
		{"userns without mappings", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "linux.uidMappings"},
		{"time offsets without timens", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"relative mount destination", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "tmp", Type: "tmpfs"}}
		}, "mounts[0].destination"},
		{"mount without type", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/tmp", Source: "/tmp"}}
		}, "mounts[0]"},
		{"bind mount without type", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/tmp", Source: "/tmp", Options: []string{"rbind"}}}
		}, ""},
		{"relative hook path", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "hook"}}}
		}, "hooks.poststop[0].path"},
		{"hostname without uts", func(s *specs.Spec) {
			s.Hostname = "x"
			s.Linux.Namespaces = s.Linux.Namespaces[:2]
		}, "hostname"},
		{"net sysctl without netns", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:3]
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "linux.sysctl"},
		{"host sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"}
		}, "linux.sysctl"},
		{"ipc sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, ""},
		{"bad device type", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, "linux.devices[0].type"},
		{"bad propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }, "linux.rootfsPropagation"},
		{"relative masked path", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} }, "maskedPaths"},
		{"bad seccomp action", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
		}, "linux.seccomp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			tt.mutate(s)
			data, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseSpec(data)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("accepted; want an error naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q does not name %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSpecMalformed(t *testing.T) {
	for _, in := range []string{`{`, `{"ociVersion": 1}`, `[]`, ``} {
		if _, err := ParseSpec([]byte(in)); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("ParseSpec(%q) = %v, want a config.json error", in, err)
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "abc-123", "x.y_z+1"} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b", "a b", "x\n", strings.Repeat("a", 1025)} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) accepted", id)
		}
	}
}

func TestBootstrapPayload(t *testing.T) {
	s := baseSpec()
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace, Path: "/proc/1/ns/cgroup"})
	oom := -500
	s.Process.OOMScoreAdj = &oom
	recs := map[uint32][]string{}
	b := bootstrapPayload(s)
	for len(b) >= 8 {
		kind := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		n := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
		recs[kind] = append(recs[kind], string(b[8:8+n]))
		b = b[8+n:]
	}
	if len(b) != 0 {
		t.Fatalf("trailing bytes: %q", b)
	}
	if got := recs[recNsPath]; len(got) != 1 || got[0] != "33554432:/proc/1/ns/cgroup" {
		t.Errorf("namespace paths = %q", got)
	}
	if got := recs[recOomScore]; len(got) != 1 || got[0] != "-500" {
		t.Errorf("oom score = %q", got)
	}
	if got := recs[recCloneFlags]; len(got) != 1 || len(got[0]) != 4 {
		t.Fatalf("clone flags = %q", got)
	}
}

func TestParseCPUList(t *testing.T) {
	set, err := parseCPUList("0-2,5")
	if err != nil {
		t.Fatal(err)
	}
	for cpu, want := range map[int]bool{0: true, 1: true, 2: true, 3: false, 5: true} {
		if set.IsSet(cpu) != want {
			t.Errorf("cpu %d set = %v, want %v", cpu, set.IsSet(cpu), want)
		}
	}
	for _, bad := range []string{"a", "3-1", "1-", "", "-1", "0-1024", "1024"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) accepted", bad)
		}
	}
}
