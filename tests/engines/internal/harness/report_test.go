package harness

import (
	"bytes"
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		name       string
		runo, runc Status
		want       string
		failed     bool
	}{
		{"both pass", Pass, Pass, "ok", false},
		{"runo fails where runc passes", Fail, Pass, "RUNO-BUG", true},
		{"control fails", Pass, Fail, "ENV", true},
		{"both fail", Fail, Fail, "ENV", true},
		{"skipped", Skip, Skip, "skip", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReport("runo", "runc")
			r.Record("podman", "run", "runo", Cell{Status: tc.runo, Err: "boom"})
			r.Record("podman", "run", "runc", Cell{Status: tc.runc})
			if got := r.Verdict(r.Rows()[0]); got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
			if got := r.Failed(); got != tc.failed {
				t.Errorf("Failed() = %v, want %v", got, tc.failed)
			}
		})
	}
}

func TestVerdictIncompleteFails(t *testing.T) {
	r := NewReport("runo", "runc")
	r.Record("ctr", "run", "runc", Cell{Status: Pass})
	if r.Verdict(r.Rows()[0]) != "incomplete" || !r.Failed() {
		t.Fatalf("a row without the subject's result must fail the run")
	}
}

func TestPrintAndCounts(t *testing.T) {
	r := NewReport("runo", "runc")
	r.Record("docker", "exec", "runo", Cell{Status: Fail, Err: "exit 125"})
	r.Record("docker", "exec", "runc", Cell{Status: Pass})
	r.Record("docker", "run", "runo", Cell{Status: Pass})
	r.Record("docker", "run", "runc", Cell{Status: Pass})
	var b bytes.Buffer
	r.Print(&b)
	out := b.String()
	for _, want := range []string{"ENGINE", "RUNO", "RUNC", "RUNO-BUG", "FAIL docker/exec [runo]: exit 125"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if p, f, s := r.Counts(); p != 3 || f != 1 || s != 0 {
		t.Errorf("counts %d/%d/%d, want 3/1/0", p, f, s)
	}
}
