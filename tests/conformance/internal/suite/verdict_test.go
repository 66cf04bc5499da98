package suite

import (
	"errors"
	"strings"
	"testing"

	"github.com/runo-dev/runo/tests/conformance/internal/tap"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		name     string
		run      Run
		parseErr error
		want     Verdict
		noteHas  string
	}{
		{
			name: "all ok",
			run:  Run{Name: "hostname", Stdout: "TAP version 13\nok 1 - a\nok 2 # SKIP b\n1..2\n"},
			want: VerdictPass,
		},
		{
			name:    "not ok line",
			run:     Run{Name: "mounts", Stdout: "TAP version 13\nok 1 - a\nnot ok 2 - mount /tmp found\n1..2\n"},
			want:    VerdictFail,
			noteHas: "mount /tmp found",
		},
		{
			name:    "timeout wins",
			run:     Run{Name: "kill", Stdout: "TAP version 13\nok 1\n", ExitCode: -1, TimedOut: true},
			want:    VerdictTimeout,
			noteHas: "time limit",
		},
		{
			name:    "non-zero exit with clean TAP",
			run:     Run{Name: "linux_sysctl", Stdout: "", ExitCode: 1},
			want:    VerdictFail,
			noteHas: "exit status 1",
		},
		{
			name: "silent *_fail program passes",
			run:  Run{Name: "process_rlimits_fail", Stdout: ""},
			want: VerdictPass,
		},
		{
			name:    "silent ordinary program fails",
			run:     Run{Name: "process", Stdout: "\n"},
			want:    VerdictFail,
			noteHas: "no TAP output",
		},
		{
			name: "empty plan without diagnostics passes",
			run:  Run{Name: "prestart_fail", Stdout: "TAP version 13\n1..0\n"},
			want: VerdictPass,
		},
		{
			name:    "empty plan with error diagnostic fails",
			run:     Run{Name: "prestart_fail", Stdout: "TAP version 13\n  ---\n  {\n    \"error\": \"hook MUST fail\"\n  }\n  ...\n1..0\n"},
			want:    VerdictFail,
			noteHas: "hook MUST fail",
		},
		{
			name:    "header only",
			run:     Run{Name: "poststop_fail", Stdout: "TAP version 13\n"},
			want:    VerdictFail,
			noteHas: "no plan",
		},
		{
			name:    "short run",
			run:     Run{Name: "state", Stdout: "TAP version 13\n1..3\nok 1\n"},
			want:    VerdictFail,
			noteHas: "plan 1..3 but 1",
		},
		{
			name: "everything skipped",
			run:  Run{Name: "linux_cgroups_hugetlb", Stdout: "TAP version 13\n1..1\nok 1 # SKIP no hugetlb\n"},
			want: VerdictSkip,
		},
		{
			name:     "parse error",
			run:      Run{Name: "x", Stdout: "TAP version 13\nok 1\n1..1\n"},
			parseErr: errors.New("unterminated YAML block"),
			want:     VerdictFail,
			noteHas:  "unterminated",
		},
		{
			name:    "bail out",
			run:     Run{Name: "x", Stdout: "TAP version 13\nBail out! nope\n"},
			want:    VerdictFail,
			noteHas: "nope",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := tap.Parse(strings.NewReader(tc.run.Stdout))
			got, note := Judge(tc.run, res, tc.parseErr)
			if got != tc.want {
				t.Fatalf("Judge = %s (%s), want %s", got, note, tc.want)
			}
			if !strings.Contains(note, tc.noteHas) {
				t.Errorf("note %q does not mention %q", note, tc.noteHas)
			}
		})
	}
}
