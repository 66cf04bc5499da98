package seccomp

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	for _, bad := range [][]byte{{1, 2, 3}, append(b, 0), b[:5]} {
		if _, err := UnmarshalFilter(bad); err == nil {
			t.Errorf("UnmarshalFilter accepted %d malformed bytes", len(bad))
		}
	}
	if g, err := UnmarshalFilter(nil); g != nil || err != nil {
		t.Errorf("empty input: %v, %v; want no filter", g, err)
	}
}
