package harness

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Status of one scenario under one runtime.
type Status int

const (
	NotRun Status = iota
	Pass
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Skip:
		return "SKIP"
	}
	return "-"
}

// Cell is the outcome of one scenario under one runtime.
type Cell struct {
	Status Status
	Dur    time.Duration
	Err    string
}

// Row is one engine × scenario line of the table.
type Row struct {
	Engine, Scenario string
	Cells            map[string]Cell // by runtime name
}

// Report collects cells in the order they are first recorded.
type Report struct {
	Subject  string   // the runtime under test, e.g. "runo"
	Controls []string // runtimes that must pass, e.g. "runc"
	rows     []*Row
	byKey    map[string]*Row
}

// NewReport makes a report for subject checked against controls.
func NewReport(subject string, controls ...string) *Report {
	return &Report{Subject: subject, Controls: controls, byKey: map[string]*Row{}}
}

// Record stores the outcome of a scenario.
func (r *Report) Record(engine, scenario, runtime string, c Cell) {
	k := engine + "\x00" + scenario
	row := r.byKey[k]
	if row == nil {
		row = &Row{Engine: engine, Scenario: scenario, Cells: map[string]Cell{}}
		r.byKey[k] = row
		r.rows = append(r.rows, row)
	}
	row.Cells[runtime] = c
}

// Verdict of a row: "ok", "skip", "RUNO-BUG" (subject fails where every
// control passes), "ENV" (a control failed: the scenario or the machine is
// at fault, not the subject) or "incomplete".
func (r *Report) Verdict(row *Row) string {
	subj, ok := row.Cells[r.Subject]
	if !ok {
		return "incomplete"
	}
	for _, c := range r.Controls {
		cc, ok := row.Cells[c]
		if !ok {
			continue
		}
		if cc.Status == Fail {
			return "ENV"
		}
	}
	switch subj.Status {
	case Fail:
		return strings.ToUpper(r.Subject) + "-BUG"
	case Skip:
		return "skip"
	case Pass:
		return "ok"
	}
	return "incomplete"
}

// Rows returns the rows in recording order.
func (r *Report) Rows() []*Row { return r.rows }

// Failed reports whether any row's verdict makes the run fail.
func (r *Report) Failed() bool {
	for _, row := range r.rows {
		switch r.Verdict(row) {
		case "ok", "skip":
		default:
			return true
		}
	}
	return false
}

// Counts totals the cells of every runtime.
func (r *Report) Counts() (passed, failed, skipped int) {
	for _, row := range r.rows {
		for _, c := range row.Cells {
			switch c.Status {
			case Pass:
				passed++
			case Fail:
				failed++
			case Skip:
				skipped++
			}
		}
	}
	return
}

// Print writes the table, then the errors of failed cells.
func (r *Report) Print(w io.Writer) {
	runtimes := append([]string{r.Subject}, r.Controls...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hdr := []string{"ENGINE", "SCENARIO"}
	for _, rt := range runtimes {
		hdr = append(hdr, strings.ToUpper(rt), "s")
	}
	hdr = append(hdr, "VERDICT")
	fmt.Fprintln(tw, strings.Join(hdr, "\t"))
	for _, row := range r.rows {
		line := []string{row.Engine, row.Scenario}
		for _, rt := range runtimes {
			c := row.Cells[rt]
			line = append(line, c.Status.String(), fmt.Sprintf("%.1f", c.Dur.Seconds()))
		}
		line = append(line, r.Verdict(row))
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
	var details []string
	for _, row := range r.rows {
		for _, rt := range runtimes {
			c := row.Cells[rt]
			if c.Status == Fail || (c.Status == Skip && c.Err != "") {
				details = append(details, fmt.Sprintf("%s %s/%s [%s]: %s", c.Status, row.Engine, row.Scenario, rt, c.Err))
			}
		}
	}
	if len(details) > 0 {
		fmt.Fprintln(w)
		for _, d := range details {
			fmt.Fprintln(w, d)
		}
	}
}
