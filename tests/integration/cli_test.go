package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/runo-dev/runo/tests/testbundle"
)

// versionLines runs --version and returns its lines keyed by their prefix.
func versionLines(t *testing.T) []string {
	t.Helper()
	out, stderr, code := testbundle.Runo(t, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d: %s", code, stderr)
	}
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

func specVersion(t *testing.T) string {
	for _, l := range versionLines(t) {
		if v, ok := strings.CutPrefix(l, "spec: "); ok {
			return v
		}
	}
	t.Fatal("--version has no spec: line")
	return ""
}

func TestVersion(t *testing.T) {
	t.Parallel()
	lines := versionLines(t)
	prefixes := []string{progName() + " version ", "commit: ", "spec: ", "go: ", "libseccomp: "}
	if len(lines) != len(prefixes) {
		t.Fatalf("--version printed %d lines, want %d:\n%s", len(lines), len(prefixes), strings.Join(lines, "\n"))
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) || len(lines[i]) == len(p) {
			t.Errorf("line %d = %q, want %q followed by a value", i+1, lines[i], p)
		}
	}
	// runo-specific: runo implements runtime-spec 1.3.0 (runc 1.1 says 1.0.2-dev).
	if lines[2] != "spec: "+specs.Version {
		t.Errorf("spec line %q, want %q", lines[2], "spec: "+specs.Version)
	}
}

func TestSpecCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags []string
		check func(t *testing.T, s *specs.Spec)
	}{
		{"default", nil, func(t *testing.T, s *specs.Spec) {
			if !s.Process.Terminal || s.Root.Path != "rootfs" || !s.Root.Readonly {
				t.Errorf("terminal %v root %+v", s.Process.Terminal, s.Root)
			}
			if !slices.Equal(s.Process.Args, []string{"sh"}) {
				t.Errorf("args = %q", s.Process.Args)
			}
			var types []string
			for _, ns := range s.Linux.Namespaces {
				types = append(types, string(ns.Type))
			}
			for _, want := range []string{"pid", "network", "ipc", "uts", "mount"} {
				if !slices.Contains(types, want) {
					t.Errorf("namespaces %v lack %s", types, want)
				}
			}
			if slices.Contains(types, "user") {
				t.Errorf("default spec has a user namespace")
			}
			if len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 || len(s.Mounts) < 7 {
				t.Errorf("masked %d readonly %d mounts %d", len(s.Linux.MaskedPaths), len(s.Linux.ReadonlyPaths), len(s.Mounts))
			}
			if !slices.Equal(s.Process.Capabilities.Bounding, []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}) {
				t.Errorf("bounding caps = %v", s.Process.Capabilities.Bounding)
			}
		}},
		{"rootless", []string{"--rootless"}, func(t *testing.T, s *specs.Spec) {
			var types []string
			for _, ns := range s.Linux.Namespaces {
				types = append(types, string(ns.Type))
			}
			if !slices.Contains(types, "user") || slices.Contains(types, "network") {
				t.Errorf("rootless namespaces = %v, want user and no network", types)
			}
			if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0].HostID != uint32(os.Geteuid()) || s.Linux.UIDMappings[0].Size != 1 {
				t.Errorf("uidMappings = %+v", s.Linux.UIDMappings)
			}
			if len(s.Linux.GIDMappings) != 1 {
				t.Errorf("gidMappings = %+v", s.Linux.GIDMappings)
			}
			if s.Linux.Resources != nil {
				t.Errorf("rootless spec has resources: %+v", s.Linux.Resources)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := testbundle.Command(t, append([]string{"spec", "--bundle", dir}, tc.flags...)...)
			mustExit(t, c.Run(), 0, "spec")
			data, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var s specs.Spec
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatalf("config.json: %v", err)
			}
			if s.Version != specVersion(t) {
				t.Errorf("ociVersion %q, want --version's spec %q", s.Version, specVersion(t))
			}
			tc.check(t, &s)
			// A second spec must refuse to overwrite.
			c = testbundle.Command(t, append([]string{"spec", "--bundle", dir}, tc.flags...)...)
			r := c.Run()
			mustExit(t, r, 1, "spec over an existing config.json")
			assertMentions(t, r.Stderr, "config.json", "exists")
		})
	}
}

func TestFeatures(t *testing.T) {
	t.Parallel()
	out, stderr, code := testbundle.Runo(t, "features")
	if code != 0 {
		t.Fatalf("features: exit %d: %s", code, stderr)
	}
	var f features.Features
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("features JSON: %v\n%s", err, out)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax != specVersion(t) {
		t.Errorf("ociVersionMin %q ociVersionMax %q (want max = %q)", f.OCIVersionMin, f.OCIVersionMax, specVersion(t))
	}
	for _, h := range []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"} {
		if !slices.Contains(f.Hooks, h) {
			t.Errorf("hooks %v lack %s", f.Hooks, h)
		}
	}
	for _, o := range []string{"ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate", "rshared", "rslave"} {
		if !slices.Contains(f.MountOptions, o) {
			t.Errorf("mountOptions lack %s", o)
		}
	}
	if f.Linux == nil {
		t.Fatal("features has no linux section")
	}
	// time: runc before 1.2 lacks time namespaces.
	for _, ns := range []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"} {
		if !slices.Contains(f.Linux.Namespaces, ns) {
			t.Errorf("linux.namespaces %v lack %s", f.Linux.Namespaces, ns)
		}
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_KILL", "CAP_CHOWN"} {
		if !slices.Contains(f.Linux.Capabilities, c) {
			t.Errorf("linux.capabilities lack %s", c)
		}
	}
	if f.Linux.Cgroup == nil || f.Linux.Cgroup.V1 == nil || !*f.Linux.Cgroup.V1 {
		t.Errorf("linux.cgroup.v1 not true: %+v", f.Linux.Cgroup)
	}
}

func TestLogJSON(t *testing.T) {
	t.Parallel()
	root := testbundle.RootDir(t)
	logFile := filepath.Join(t.TempDir(), "runtime.log")
	_, _, code := testbundle.Runo(t, "--root", root, "--log", logFile, "--log-format", "json", "state", "no-such-container")
	if code != 1 {
		t.Fatalf("state of a missing container: exit %d, want 1", code)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("log line is not JSON: %q: %v", l, err)
			continue
		}
		if e.Level == "error" && strings.Contains(e.Msg, "does not exist") {
			found = true
			if _, err := time.Parse(time.RFC3339, e.Time); err != nil {
				t.Errorf("time %q: %v", e.Time, err)
			}
		}
	}
	if !found {
		t.Errorf("no error entry naming the missing container in:\n%s", data)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	_, _, code := testbundle.Runo(t, "--root", testbundle.RootDir(t), "no-such-command")
	if code == 0 {
		t.Errorf("unknown command exited 0")
	}
}
