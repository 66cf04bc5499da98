// Package suite runs the runtime-tools validation programs one by one and
// judges each from its exit status and TAP output.
package suite

import (
	"fmt"
	"strings"

	"github.com/runo-dev/runo/tests/conformance/internal/tap"
)

// Verdict is the judgement on one validation program.
type Verdict string

const (
	VerdictPass    Verdict = "pass"
	VerdictFail    Verdict = "FAIL"
	VerdictSkip    Verdict = "skip"
	VerdictTimeout Verdict = "TIMEOUT"
)

// Failed tells whether the verdict counts as a failure.
func (v Verdict) Failed() bool { return v == VerdictFail || v == VerdictTimeout }

// Run is what a program did, as seen from outside.
type Run struct {
	Name     string
	Stdout   string
	ExitCode int // -1 when the program did not exit by itself
	TimedOut bool
}

// Judge derives a verdict, with a short note saying why. The rules follow the
// quirks of runtime-tools v0.9.0:
//   - the *_fail programs built on RuntimeInsideValidate print nothing at
//     all when the runtime correctly refused the config, so silence with
//     exit status 0 is a pass for them (and only for them);
//   - prestart_fail and friends print a plan of 1..0 and report failure
//     only as a YAML diagnostic with an "error" key, so an unattached error
//     diagnostic fails the program even though no "not ok" line exists;
//   - a program whose every test line is a SKIP is reported as skipped.
func Judge(r Run, res tap.Result, parseErr error) (Verdict, string) {
	switch {
	case r.TimedOut:
		return VerdictTimeout, "killed after the time limit"
	case r.ExitCode != 0:
		return VerdictFail, fmt.Sprintf("exit status %d%s", r.ExitCode, failSummary(res))
	case parseErr != nil:
		return VerdictFail, fmt.Sprintf("bad TAP: %v", parseErr)
	case res.BailOut != "":
		return VerdictFail, "bail out: " + res.BailOut
	case res.Fail > 0:
		return VerdictFail, strings.TrimPrefix(failSummary(res), ": ")
	case len(res.OrphanErrors) > 0:
		return VerdictFail, "error diagnostic: " + oneLine(res.OrphanErrors[0])
	case strings.TrimSpace(r.Stdout) == "":
		if strings.HasSuffix(r.Name, "_fail") {
			return VerdictPass, "runtime refused the invalid config (no TAP by design)"
		}
		return VerdictFail, "no TAP output"
	case len(res.PlanErrors) > 0:
		return VerdictFail, res.PlanErrors[0]
	case res.Pass == 0 && res.Todo == 0 && res.Skip > 0:
		return VerdictSkip, "all tests skipped"
	case res.Plan == 0:
		return VerdictPass, "empty plan, no error diagnostic"
	}
	return VerdictPass, ""
}

func failSummary(res tap.Result) string {
	switch {
	case res.Fail == 1:
		return ": not ok: " + oneLine(res.FailedNames[0])
	case res.Fail > 1:
		return fmt.Sprintf(": %d not ok, first: %s", res.Fail, oneLine(res.FailedNames[0]))
	case len(res.OrphanErrors) > 0:
		return ": " + oneLine(res.OrphanErrors[0])
	}
	return ""
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 110
	if len(s) > max {
		return s[:max-3] + "..."
	}
	return s
}
