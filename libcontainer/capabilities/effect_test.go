package capabilities

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The real-effect tests re-execute the test binary; the child pins its
// goroutine to the main thread (capabilities are per-thread), applies a
// configuration the way runo init does and reports its thread status.
const childEnv = "RUNO_CAPS_TEST_CHILD"

func init() {
	if os.Getenv(childEnv) != "" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	if in := os.Getenv(childEnv); in != "" {
		os.Exit(runChild(in))
	}
	os.Exit(m.Run())
}

type childInput struct {
	Caps     *specs.LinuxCapabilities `json:"caps"`
	UID      int                      `json:"uid"` // 0: stay root
	KeepCaps bool                     `json:"keepCaps"`
}

type childOutput struct {
	ApplyErr string            `json:"applyErr"`
	Status   map[string]string `json:"status"`
	KeepCaps int               `json:"keepCaps"`
}

func runChild(raw string) int {
	var in childInput
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 100
	}
	var out childOutput
	out.ApplyErr = applyAsInit(in)
	st, err := threadStatus()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 101
	}
	out.Status = st
	out.KeepCaps, _ = unix.PrctlRetInt(unix.PR_GET_KEEPCAPS, 0, 0, 0, 0)
	b, _ := json.Marshal(out)
	os.Stdout.Write(b)
	return 0
}

// applyAsInit follows the sequence documented in the package comment.
func applyAsInit(in childInput) string {
	c, err := New(in.Caps)
	if err != nil {
		return "new: " + err.Error()
	}
	if err := c.ApplyBounding(); err != nil {
		return "bounding: " + err.Error()
	}
	if in.UID != 0 {
		if in.KeepCaps {
			if err := KeepCaps(); err != nil {
				return err.Error()
			}
		}
		if err := syscall.Setgroups(nil); err != nil {
			return "setgroups: " + err.Error()
		}
		if err := syscall.Setresgid(in.UID, in.UID, in.UID); err != nil {
			return "setresgid: " + err.Error()
		}
		if err := syscall.Setresuid(in.UID, in.UID, in.UID); err != nil {
			return "setresuid: " + err.Error()
		}
		if in.KeepCaps {
			if err := ClearKeepCaps(); err != nil {
				return err.Error()
			}
		}
	}
	if err := c.ApplyCaps(); err != nil {
		return "caps: " + err.Error()
	}
	return ""
}

func threadStatus() (map[string]string, error) {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return nil, err
	}
	st := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st, sc.Err()
}

func runCapsChild(t *testing.T, in childInput) childOutput {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	var out childOutput
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("child output %q: %v", outb, err)
	}
	return out
}

func mask(names ...string) uint64 {
	var m uint64
	for _, n := range names {
		nr, ok := lookup(n)
		if !ok {
			panic("test uses unknown capability " + n)
		}
		m |= 1 << uint(nr)
	}
	return m
}

func TestEffectApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	lastCap, err := capability.LastCap()
	if err != nil {
		t.Fatal(err)
	}
	// The child can only keep what this process's bounding set has (the
	// sandbox running the tests may already lack some capabilities).
	self, err := threadStatus()
	if err != nil {
		t.Fatal(err)
	}
	all, err := strconv.ParseUint(self["CapBnd"], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if all&mask("CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETPCAP", "CAP_SETGID") != mask("CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETPCAP", "CAP_SETGID") {
		t.Skipf("test process lacks capabilities the cases use (CapBnd %#x)", all)
	}
	withoutChown := without(KnownNames()[:lastCap+1], "CAP_CHOWN")

	cases := []struct {
		name    string
		in      childInput
		wantErr string
		want    map[string]uint64 // status key -> mask
		wantUID string
	}{
		{
			name: "bounding without CHOWN, effective NET_ADMIN",
			in: childInput{Caps: &specs.LinuxCapabilities{
				Bounding: withoutChown, Effective: []string{"CAP_NET_ADMIN"}, Permitted: []string{"CAP_NET_ADMIN"}}},
			want: map[string]uint64{"CapBnd": all &^ mask("CAP_CHOWN"), "CapEff": mask("CAP_NET_ADMIN"),
				"CapPrm": mask("CAP_NET_ADMIN"), "CapInh": 0, "CapAmb": 0},
			wantUID: "0",
		},
		{
			name: "ambient raised only where permitted and inheritable",
			in: childInput{Caps: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL"},
				Effective: []string{"CAP_NET_ADMIN"}, Permitted: []string{"CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL"},
				Inheritable: []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}, Ambient: []string{"CAP_NET_ADMIN", "CAP_KILL"}}},
			want: map[string]uint64{"CapBnd": mask("CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL"), "CapEff": mask("CAP_NET_ADMIN"),
				"CapPrm": mask("CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_KILL"), "CapInh": mask("CAP_NET_ADMIN", "CAP_SYS_TIME"),
				"CapAmb": mask("CAP_NET_ADMIN")},
			wantUID: "0",
		},
		{
			name: "empty sets drop everything",
			in:   childInput{Caps: &specs.LinuxCapabilities{}},
			want: map[string]uint64{"CapBnd": 0, "CapEff": 0, "CapPrm": 0, "CapInh": 0, "CapAmb": 0},
		},
		{
			name: "setuid 1000 with caps kept",
			in: childInput{UID: 1000, KeepCaps: true, Caps: &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_SETUID"},
				Effective:   []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
				Permitted:   []string{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
				Inheritable: []string{"CAP_NET_BIND_SERVICE"}, Ambient: []string{"CAP_NET_BIND_SERVICE"}}},
			want: map[string]uint64{"CapBnd": mask("CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_SETUID"),
				"CapEff": mask("CAP_NET_BIND_SERVICE", "CAP_CHOWN"), "CapPrm": mask("CAP_NET_BIND_SERVICE", "CAP_CHOWN"),
				"CapInh": mask("CAP_NET_BIND_SERVICE"), "CapAmb": mask("CAP_NET_BIND_SERVICE")},
			wantUID: "1000",
		},
		{
			// Without PR_SET_KEEPCAPS setuid empties the permitted set and
			// capset cannot raise it again: ApplyCaps must report that.
			name: "setuid 1000 without keepcaps fails",
			in: childInput{UID: 1000, Caps: &specs.LinuxCapabilities{
				Bounding: []string{"CAP_NET_BIND_SERVICE"}, Effective: []string{"CAP_NET_BIND_SERVICE"}, Permitted: []string{"CAP_NET_BIND_SERVICE"}}},
			wantErr: "caps: capset",
			want:    map[string]uint64{"CapEff": 0, "CapPrm": 0},
			wantUID: "1000",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := runCapsChild(t, tc.in)
			if tc.wantErr == "" && out.ApplyErr != "" {
				t.Fatalf("apply: %s", out.ApplyErr)
			}
			if tc.wantErr != "" && !strings.Contains(out.ApplyErr, tc.wantErr) {
				t.Fatalf("apply error %q, want %q", out.ApplyErr, tc.wantErr)
			}
			for key, want := range tc.want {
				got, err := strconv.ParseUint(out.Status[key], 16, 64)
				if err != nil {
					t.Fatalf("%s: %q: %v", key, out.Status[key], err)
				}
				if got != want {
					t.Errorf("%s = %#x, want %#x", key, got, want)
				}
			}
			if tc.wantUID != "" && strings.Fields(out.Status["Uid"])[0] != tc.wantUID {
				t.Errorf("Uid line %q, want %s", out.Status["Uid"], tc.wantUID)
			}
			if out.KeepCaps != 0 {
				t.Errorf("keepcaps left set")
			}
		})
	}
}

func without(names []string, drop string) []string {
	var out []string
	for _, n := range names {
		if n != drop {
			out = append(out, n)
		}
	}
	return out
}
