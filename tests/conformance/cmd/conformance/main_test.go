package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runo-dev/runo/tests/conformance/internal/suite"
)

// fakeSuite lays out a build dir whose "validation programs" are shell
// scripts, so the whole runner (namespace, wrapper, parsing, gating) runs
// without any container runtime.
func fakeSuite(t *testing.T, programs map[string]string) string {
	t.Helper()
	build := t.TempDir()
	bin := filepath.Join(build, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range programs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"runtimetest", "rootfs-amd64.tar.gz"} {
		if err := os.WriteFile(filepath.Join(build, f), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return build
}

func TestRunEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -m")
	}
	// Each program checks the environment contract the real ones rely on.
	check := `[ -f runtimetest ] && [ -f rootfs-amd64.tar.gz ] && [ -x "$RUNTIME" ] || { echo env broken >&2; exit 3; }
"$RUNTIME" state x >/dev/null || exit 4
`
	build := fakeSuite(t, map[string]string{
		"good":       check + "echo 'TAP version 13'; echo 'ok 1 - a'; echo '1..1'\n",
		"bad":        check + "echo 'TAP version 13'; echo 'not ok 1 - b'; echo '1..1'\n",
		"quiet_fail": check,
		"hang":       "sleep 30\n",
	})
	runtime := filepath.Join(t.TempDir(), "rt")
	argvLog := filepath.Join(t.TempDir(), "argv")
	if err := os.WriteFile(runtime, []byte("#!/bin/sh\necho \"$@\" >> "+argvLog+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	expected := filepath.Join(t.TempDir(), "expected.txt")

	tests := []struct {
		name     string
		list     string
		filter   string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "listed failures gate nothing",
			list:     "bad known\n",
			filter:   "^(good|bad|quiet_fail)$",
			wantCode: 0,
			wantOut:  []string{"xfail", "conformance: 2 passed, 0 failed, 1 skipped"},
		},
		{
			name:     "unlisted failure and stale entry fail the run",
			list:     "good stale\n",
			filter:   "^(good|bad)$",
			wantCode: 1,
			wantOut:  []string{"XPASS", "unexpected failures: bad", "unexpected passes (remove from the list): good", "conformance: 1 passed, 2 failed, 0 skipped"},
		},
		{
			name:     "time limit",
			list:     "",
			filter:   "^hang$",
			wantCode: 1,
			wantOut:  []string{"TIMEOUT"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(expected, []byte(tc.list), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"-build", build, "-runtime", runtime, "-runtime-args", "--debug",
				"-expected", expected, "-run", tc.filter, "-timeout", "3s"}, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
	argv, err := os.ReadFile(argvLog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(argv), "--debug --root ") || !strings.Contains(string(argv), " state x") {
		t.Errorf("runtime was called as %q, want global flags, private --root, then the sub-command", argv)
	}
}

func TestShownVerdict(t *testing.T) {
	list := map[string]string{"a": "r"}
	tests := []struct {
		v    string
		name string
		want string
	}{
		{"FAIL", "a", "xfail"},
		{"TIMEOUT", "a", "xfail"},
		{"pass", "a", "XPASS"},
		{"skip", "a", "skip"},
		{"FAIL", "b", "FAIL"},
	}
	for _, tc := range tests {
		if got := shownVerdict(suiteVerdict(tc.v), list, tc.name); got != tc.want {
			t.Errorf("shownVerdict(%s, %s) = %s, want %s", tc.v, tc.name, got, tc.want)
		}
	}
}

func TestSelectPrograms(t *testing.T) {
	all := []string{"kill", "killsig", "start"}
	got, err := selectPrograms(all, "^kill")
	if err != nil || strings.Join(got, ",") != "kill,killsig" {
		t.Errorf("selectPrograms = %v, %v", got, err)
	}
	if _, err := selectPrograms(all, "nomatch"); err == nil {
		t.Error("a filter matching nothing was accepted")
	}
	if _, err := selectPrograms(all, "("); err == nil {
		t.Error("a bad regexp was accepted")
	}
}

func suiteVerdict(s string) suite.Verdict { return suite.Verdict(s) }
