package seccomp

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestFilterWireRoundTrip(t *testing.T) {
	errno := uint(38)
	f, err := Build(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &errno},
			{Names: []string{"getpid"}, Action: specs.ActNotify},
		},
		ListenerPath: "/run/agent.sock",
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := UnmarshalFilter(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.prog, g.prog) || f.flags != g.flags || f.notify != g.notify || !g.HasNotify() {
		t.Fatalf("round trip changed the filter: flags %d/%d notify %v/%v, %d/%d instructions",
			f.flags, g.flags, f.notify, g.notify, len(f.prog), len(g.prog))
	}
	if g.fprog.Len != uint16(len(g.prog)) || g.fprog.Filter != &g.prog[0] {
		t.Fatal("decoded filter's sock_fprog does not describe its program")
	}
	malformed := []struct {
		name   string
		in     []byte
		errSub string
	}{
		{"short header", []byte{1, 2, 3}, "no header"},
		{"partial instruction", append(b[:len(b):len(b)], 0), "not a whole"},
		{"header only", b[:5], "not a whole"},
		{"too long", make([]byte, 5+8*(unix.BPF_MAXINSNS+1)), "at most"},
	}
	for _, tc := range malformed {
		if _, err := UnmarshalFilter(tc.in); err == nil || !strings.Contains(err.Error(), tc.errSub) {
			t.Errorf("%s: UnmarshalFilter = %v; want error containing %q", tc.name, err, tc.errSub)
		}
	}
	if g, err := UnmarshalFilter(nil); g != nil || err != nil {
		t.Errorf("empty input: %v, %v; want no filter", g, err)
	}
}
