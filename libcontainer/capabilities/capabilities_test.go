package capabilities

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestNewValidation(t *testing.T) {
	cases := []struct {
		name     string
		caps     specs.LinuxCapabilities
		lastCap  int
		wantErr  string
		wantWarn string
		check    func(t *testing.T, c *Caps)
	}{
		{name: "all sets", lastCap: 40, caps: specs.LinuxCapabilities{
			Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL", "CAP_CHOWN"},
			Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}},
			check: func(t *testing.T, c *Caps) {
				if c.bounding != 1<<0|1<<5 || c.effective != 1<<5 || c.permitted != 1<<0|1<<5 || c.inheritable != 1<<5 || c.ambient != 1<<5 {
					t.Errorf("masks %+v", *c)
				}
			}},
		{name: "highest capability uses the upper word", lastCap: 40, caps: specs.LinuxCapabilities{Effective: []string{"CAP_CHECKPOINT_RESTORE"}},
			check: func(t *testing.T, c *Caps) {
				if c.effective != 1<<40 {
					t.Errorf("effective %#x", c.effective)
				}
			}},
		{name: "unknown in bounding", lastCap: 40, caps: specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_FOO"}},
			wantErr: `capabilities.bounding[1]: unknown capability "CAP_FOO"`},
		{name: "unknown in effective", lastCap: 40, caps: specs.LinuxCapabilities{Effective: []string{"CAP_NOPE"}}, wantErr: `capabilities.effective[0]`},
		{name: "unknown in permitted", lastCap: 40, caps: specs.LinuxCapabilities{Permitted: []string{"CAP_NOPE"}}, wantErr: `capabilities.permitted[0]`},
		{name: "unknown in inheritable", lastCap: 40, caps: specs.LinuxCapabilities{Inheritable: []string{"CAP_NOPE"}}, wantErr: `capabilities.inheritable[0]`},
		{name: "unknown in ambient", lastCap: 40, caps: specs.LinuxCapabilities{Ambient: []string{"CAP_NOPE"}}, wantErr: `capabilities.ambient[0]`},
		{name: "missing CAP_ prefix", lastCap: 40, caps: specs.LinuxCapabilities{Bounding: []string{"CHOWN"}}, wantErr: `unknown capability "CHOWN"`},
		{name: "lowercase", lastCap: 40, caps: specs.LinuxCapabilities{Bounding: []string{"cap_chown"}}, wantErr: `unknown capability "cap_chown"`},
		{name: "known but not in kernel", lastCap: 37, caps: specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_BPF"}, Effective: []string{"CAP_PERFMON"}},
			wantWarn: "CAP_BPF is not supported by the running kernel",
			check: func(t *testing.T, c *Caps) {
				if c.bounding != 1 || c.effective != 0 || len(c.warnings) != 2 {
					t.Errorf("bounding %#x effective %#x warnings %q", c.bounding, c.effective, c.warnings)
				}
			}},
		{name: "ambient outside permitted&inheritable dropped", lastCap: 40, caps: specs.LinuxCapabilities{
			Permitted: []string{"CAP_KILL", "CAP_CHOWN"}, Inheritable: []string{"CAP_KILL", "CAP_SYS_TIME"}, Ambient: []string{"CAP_KILL", "CAP_CHOWN", "CAP_SYS_TIME"}},
			wantWarn: "capabilities.ambient: CAP_CHOWN, CAP_SYS_TIME not in both",
			check: func(t *testing.T, c *Caps) {
				if c.ambient != 1<<5 {
					t.Errorf("ambient %#x", c.ambient)
				}
			}},
		{name: "empty", lastCap: 40, caps: specs.LinuxCapabilities{},
			check: func(t *testing.T, c *Caps) {
				if c.bounding|c.effective|c.permitted|c.inheritable|c.ambient != 0 || len(c.warnings) != 0 {
					t.Errorf("not empty: %+v", *c)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newForKernel(&tc.caps, tc.lastCap)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantWarn != "" && !slices.ContainsFunc(c.Warnings(), func(w string) bool { return strings.Contains(w, tc.wantWarn) }) {
				t.Errorf("warnings %q lack %q", c.Warnings(), tc.wantWarn)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestNewNil(t *testing.T) {
	c, err := New(nil)
	if c != nil || err != nil {
		t.Fatalf("New(nil) = %v, %v", c, err)
	}
	if c.ApplyBounding() != nil || c.ApplyCaps() != nil || c.Warnings() != nil {
		t.Fatal("nil Caps must be a no-op")
	}
}

func TestKnownNames(t *testing.T) {
	names := KnownNames()
	if len(names) < 41 || names[0] != "CAP_CHOWN" || names[40] != "CAP_CHECKPOINT_RESTORE" || names[21] != "CAP_SYS_ADMIN" {
		t.Fatalf("KnownNames = %v", names)
	}
	for _, n := range names {
		if _, ok := lookup(n); !ok {
			t.Errorf("%s not accepted by New", n)
		}
	}
}

// TestDropUngrantable: a capability missing from our own bounding set is dropped from every
// set with a warning, and the others are kept. Dropping from a bounding set is irreversible,
// so the test checks against this process's real bounding set (this VM lacks
// CAP_SYS_RESOURCE): whatever is missing here must be reported and removed.
func TestDropUngrantable(t *testing.T) {
	all := KnownNames()
	c, err := New(&specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, name := range all {
		nr, _ := lookup(name)
		if nr > c.lastCap {
			continue
		}
		if v, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(nr), 0, 0, 0); err == nil && v == 0 {
			missing = append(missing, name)
		}
	}
	warnings, err := c.DropUngrantable()
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) == 0 {
		if len(warnings) != 0 {
			t.Fatalf("full bounding set, but warnings %q", warnings)
		}
		return
	}
	if len(warnings) != 1 {
		t.Fatalf("missing %v, warnings %q", missing, warnings)
	}
	for _, name := range missing {
		if !strings.Contains(warnings[0], name) {
			t.Errorf("warning %q does not name %s", warnings[0], name)
		}
		nr, _ := lookup(name)
		if c.bounding&(1<<uint(nr)) != 0 || c.effective&(1<<uint(nr)) != 0 {
			t.Errorf("%s still requested after DropUngrantable", name)
		}
	}
	if c.bounding == 0 {
		t.Error("every capability was dropped")
	}
}
