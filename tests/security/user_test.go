package security

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestCVE_2026_30892_ExecUserParsing: crun parsed `exec --user` leniently
// (numbers that overflow uid_t, trailing garbage, empty parts), so a string
// meant as an unprivileged id ran the process as another user, typically
// root (uid 4294967296 truncates to 0 in a uint32).
//
// Reproduction: `exec -u <garbage> <id> id -u; id -g` into a running
// container. Every garbage form must be rejected: a non-zero exit and no
// `id` output. The valid forms are run too, with the ids they must produce,
// so the test also fails if parsing rejects everything.
//
// Why it fails without the defence: with a lenient parser (strconv.Atoi and a
// uint32 conversion, as runc 1.1.5 does) "4294967296" runs `id` as uid 0 and
// "1000:4294967296" as gid 0; the exec succeeds, prints "0", and the
// "accepted" assertion fires. runc 1.1.5 fails this test for the overflow
// and negative forms.
func TestCVE_2026_30892_ExecUserParsing(t *testing.T) {
	// The container's own user is not root, so "no user given" is visible.
	b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
		s.Process.Args = []string{"sleep", "60"}
		s.Process.User = specs.User{UID: 1234, GID: 1234}
	}))
	if r := b.Run("-d"); r.ExitCode != 0 {
		t.Fatalf("run -d: exit %d: %s", r.ExitCode, r.Stderr)
	}
	valid := []struct{ user, out string }{
		{"1000", "1000\n1234\n"}, // the gid stays the configured one
		{"1000:1001", "1000\n1001\n"},
		{"0:0", "0\n0\n"},
		{"2147483647:2147483647", "2147483647\n2147483647\n"},
		// An empty -u is the flag's unset value (urfave/cli cannot tell them
		// apart, nor can runc): the container's configured user, never root.
		{"", "1234\n1234\n"},
	}
	for _, v := range valid {
		r := b.Runo("exec", "-u", v.user, b.ID, "sh", "-c", "id -u; id -g")
		if r.ExitCode != 0 || r.Stdout != v.out {
			t.Errorf("exec -u %q: exit %d stdout %q stderr %q, want exit 0 stdout %q", v.user, r.ExitCode, r.Stdout, r.Stderr, v.out)
		}
	}
	garbage := []string{
		"4294967296", "1000:4294967296", "4294967296:1000", "18446744073709551616",
		"-1", "1000:-1", "0x10", "010x", "1e3", "+5", "1000 ", " 1000", "1000\n", "10 00",
		":", "1000:", ":1000", "1:2:3", "root", "1000:root", "１０００",
	}
	for _, u := range garbage {
		r := b.Runo("exec", "-u", u, b.ID, "sh", "-c", "id -u; id -g")
		if r.ExitCode == 0 || strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("exec -u %q was accepted: exit %d, the process ran as %q", u, r.ExitCode, strings.Fields(r.Stdout))
		}
	}
}
