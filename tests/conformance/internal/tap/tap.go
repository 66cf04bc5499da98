// Package tap parses the TAP 13 streams printed by the runtime-tools
// validation programs.
//
// Only column-0 lines are protocol lines: the programs nest the inner
// runtimetest output inside indented YAML (JSON) diagnostics, whose "ok" and
// "not ok" text must never be counted.
package tap

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Result summarises one TAP stream.
type Result struct {
	Pass int // "ok" lines without a directive
	Fail int // "not ok" lines without a TODO directive
	Skip int // lines with a SKIP directive
	Todo int // lines with a TODO directive, whatever their status

	// Streams counts the TAP documents in the output: some programs (the
	// cgroup ones) print one complete document per sub-test, each with its
	// own "TAP version" header and plan.
	Streams int

	// Plan is the sum of the plans of all streams. A plan of 0 is
	// meaningful: the *_fail programs report success that way.
	Plan int

	// PlanErrors describes every stream whose plan is missing or does not
	// match the number of test lines it holds.
	PlanErrors []string

	// HeaderSeen is true when a "TAP version" line was printed.
	HeaderSeen bool

	// OrphanErrors holds the "error" values of YAML diagnostics that are not
	// attached to a test line. Several programs (prestart_fail,
	// poststart_fail, ...) report their only verdict this way, under a plan
	// of 1..0, so such a block is a failure in its own right.
	OrphanErrors []string

	// FailedNames lists the descriptions of the "not ok" lines.
	FailedNames []string

	// BailOut holds the reason of a "Bail out!" line, if any.
	BailOut string
}

// Tests is the number of test lines seen.
func (r Result) Tests() int { return r.Pass + r.Fail + r.Skip + r.Todo }

var (
	testLine = regexp.MustCompile(`^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$`)
	planLine = regexp.MustCompile(`^1\.\.(\d+)`)
)

// Parse reads a whole TAP stream.
func Parse(r io.Reader) (Result, error) {
	var res Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)

	// attached is true while the last protocol line was a test line, so a
	// YAML block that follows belongs to it.
	attached := false
	// Per-stream state; a stream starts at a header or at the first
	// protocol line of a headerless document.
	inStream, planSeen, tests, plan := false, false, 0, 0
	endStream := func() {
		if !inStream {
			return
		}
		res.Streams++
		switch {
		case !planSeen:
			res.PlanErrors = append(res.PlanErrors, fmt.Sprintf("stream %d: no plan after %d tests", res.Streams, tests))
		case tests != plan:
			res.PlanErrors = append(res.PlanErrors, fmt.Sprintf("stream %d: plan 1..%d but %d tests ran", res.Streams, plan, tests))
		}
		inStream, planSeen, tests, plan = false, false, 0, 0
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "---" && strings.HasPrefix(line, " "):
			body, err := readYAML(sc)
			if err != nil {
				return res, err
			}
			if !attached {
				if msg, ok := errorField(body); ok {
					res.OrphanErrors = append(res.OrphanErrors, msg)
				}
			}
			// Two blocks in a row: the second one is not the test's.
			attached = false
		case strings.HasPrefix(line, "TAP version"):
			endStream()
			inStream = true
			res.HeaderSeen = true
			attached = false
		case strings.HasPrefix(line, "Bail out!"):
			res.BailOut = strings.TrimSpace(strings.TrimPrefix(line, "Bail out!"))
			attached = false
		case planLine.MatchString(line):
			n, err := strconv.Atoi(planLine.FindStringSubmatch(line)[1])
			if err != nil {
				return res, fmt.Errorf("plan line %q: %w", line, err)
			}
			if planSeen {
				// A second plan means a new, headerless document.
				endStream()
			}
			inStream, planSeen, plan = true, true, n
			res.Plan += n
			attached = false
		case testLine.MatchString(line):
			m := testLine.FindStringSubmatch(line)
			desc, directive := splitDirective(m[3])
			if planSeen && plan > 0 && tests == plan {
				// The plan came first and is used up: new document.
				endStream()
			}
			inStream = true
			tests++
			switch {
			case strings.HasPrefix(directive, "SKIP"):
				res.Skip++
			case strings.HasPrefix(directive, "TODO"):
				res.Todo++
			case m[1] == "ok":
				res.Pass++
			default:
				res.Fail++
				res.FailedNames = append(res.FailedNames, desc)
			}
			attached = true
		default:
			// Other lines keep a following diagnostic attached: tap-go does
			// not escape newlines in descriptions, so the state program's
			// "...\nRefer to: <url>" spills onto a column-0 line that still
			// belongs to the test above it.
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read TAP stream: %w", err)
	}
	endStream()
	return res, nil
}

// splitDirective separates "description # SKIP reason" into the description
// and the upper-cased directive.
func splitDirective(s string) (desc, directive string) {
	i := strings.LastIndex(s, "# ")
	if i < 0 {
		return strings.TrimSpace(s), ""
	}
	d := strings.ToUpper(strings.TrimSpace(s[i+2:]))
	if strings.HasPrefix(d, "SKIP") || strings.HasPrefix(d, "TODO") {
		return strings.TrimSpace(s[:i]), d
	}
	return strings.TrimSpace(s), ""
}

// readYAML consumes the lines of a YAML block up to its "..." terminator.
func readYAML(sc *bufio.Scanner) (string, error) {
	var b strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "..." {
			return b.String(), nil
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read YAML block: %w", err)
	}
	return "", fmt.Errorf("unterminated YAML block")
}

// errorField returns the top-level "error" value of a diagnostic block.
// tap-go writes its YAML as JSON; anything else is scanned line by line for
// an unindented error key.
func errorField(body string) (string, bool) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(body), &obj); err == nil {
		v, ok := obj["error"]
		if !ok {
			return "", false
		}
		return fmt.Sprint(v), true
	}
	for _, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "error:") {
			return strings.TrimSpace(strings.TrimPrefix(t, "error:")), true
		}
	}
	return "", false
}
