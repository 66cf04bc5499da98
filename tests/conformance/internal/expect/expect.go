// Package expect reads the expected-failures list and checks a run against it.
package expect

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// List maps a validation program name to the reason it is expected to fail.
type List map[string]string

// Load reads a list file; an empty path means "no failures expected".
func Load(path string) (List, error) {
	if path == "" {
		return List{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open expected-failures list: %w", err)
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Parse reads "<program> <reason>" lines; blank lines and # comments are
// ignored. A reason is mandatory so that every entry stays justified.
func Parse(r io.Reader) (List, error) {
	l := List{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		name = strings.TrimSpace(name)
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("line %d: entry %q has no reason", n, name)
		}
		if _, dup := l[name]; dup {
			return nil, fmt.Errorf("line %d: %q listed twice", n, name)
		}
		l[name] = reason
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read expected-failures list: %w", err)
	}
	return l, nil
}

// Flaky reports whether an entry's reason marks a racy test ("flaky: ..."): such a program
// may pass or fail without failing the run. Use it only for a race inside the test program
// itself, and say what races.
func Flaky(reason string) bool { return strings.HasPrefix(reason, "flaky:") }

// Outcome is the gating-relevant result of one program.
type Outcome int

const (
	Pass Outcome = iota
	Fail
	Skip
)

// Report is the comparison of a run with the list.
type Report struct {
	ExpectedFailures   []string // failed and listed
	UnexpectedFailures []string // failed and not listed
	UnexpectedPasses   []string // passed although listed: the entry is stale
	UnknownEntries     []string // listed but not part of the suite
}

// OK tells whether the run matches the list exactly.
func (r Report) OK() bool {
	return len(r.UnexpectedFailures) == 0 && len(r.UnexpectedPasses) == 0 && len(r.UnknownEntries) == 0
}

// Compare checks outcomes (program name -> outcome) against the list. A
// listed program that skips is neither stale nor failing: skips depend on the
// host, and the entry may still be needed on another one. Entries for
// programs that were filtered out of the run are only reported as unknown
// when known (the full suite) does not contain them either.
func Compare(l List, outcomes map[string]Outcome, known []string) Report {
	var rep Report
	for name, o := range outcomes {
		_, listed := l[name]
		switch {
		case o == Fail && listed:
			rep.ExpectedFailures = append(rep.ExpectedFailures, name)
		case o == Fail:
			rep.UnexpectedFailures = append(rep.UnexpectedFailures, name)
		case o == Pass && listed && !Flaky(l[name]):
			rep.UnexpectedPasses = append(rep.UnexpectedPasses, name)
		}
	}
	inSuite := make(map[string]bool, len(known))
	for _, k := range known {
		inSuite[k] = true
	}
	for name := range l {
		if !inSuite[name] {
			rep.UnknownEntries = append(rep.UnknownEntries, name)
		}
	}
	for _, s := range [][]string{rep.ExpectedFailures, rep.UnexpectedFailures, rep.UnexpectedPasses, rep.UnknownEntries} {
		sort.Strings(s)
	}
	return rep
}
