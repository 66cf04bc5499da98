package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// floorName is the pseudo-runtime key of the kernel floor in metric values.
const floorName = "floor"

// Column order of the table; ratios are runo against the other two.
const (
	rtRuno = "runo"
	rtRunc = "runc"
	rtCrun = "crun"
)

type hostInfo struct {
	Kernel      string     `json:"kernel"`
	CPUs        int        `json:"cpus"`
	CgroupMode  string     `json:"cgroup_mode"`
	LoadBefore  [3]float64 `json:"loadavg_before"`
	LoadAfter   [3]float64 `json:"loadavg_after"`
	GoVersion   string     `json:"harness_go_version"`
	BusyboxPath string     `json:"busybox"`
}

type report struct {
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Host     hostInfo       `json:"host"`
	Config   config         `json:"config"`
	Notes    []string       `json:"notes"`
	Runtimes []*runtimeInfo `json:"runtimes"`
	Metrics  []*metric      `json:"metrics"`
}

func (r *report) metric(key string) *metric {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m
		}
	}
	return nil
}

func writeJSON(path string, r *report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func formatValue(unit string, v float64) string {
	switch unit {
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "KiB":
		return fmt.Sprintf("%.0f KiB", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// cell renders one runtime's value; pick selects median or p90.
func cell(m *metric, s *stat, pick func(*stat) float64) string {
	if s == nil {
		return "-"
	}
	if !s.ok() {
		return "n/a"
	}
	out := formatValue(m.Unit, pick(s))
	if s.Errors > 0 {
		out += fmt.Sprintf(" (%d err)", s.Errors)
	}
	return out
}

func ratio(m *metric, a, b *stat, pick func(*stat) float64) string {
	if m.Unit == "count" || !a.ok() || !b.ok() {
		return "-"
	}
	x, y := pick(a), pick(b)
	if y == 0 || math.IsNaN(x) || math.IsNaN(y) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x/y)
}

func printTable(w io.Writer, r *report) {
	rows := [][]string{{"metric", rtRuno, rtRunc, rtCrun, "runo/crun", "runo/runc"}}
	row := func(m *metric, label string, pick func(*stat) float64) {
		ru, rc, cr := m.Values[rtRuno], m.Values[rtRunc], m.Values[rtCrun]
		rows = append(rows, []string{label, cell(m, ru, pick), cell(m, rc, pick), cell(m, cr, pick),
			ratio(m, ru, cr, pick), ratio(m, ru, rc, pick)})
	}
	for _, m := range r.Metrics {
		if m.Dist {
			row(m, m.Title+" (median)", func(s *stat) float64 { return s.Median })
			row(m, m.Title+" (p90)", func(s *stat) float64 { return s.P90 })
			continue
		}
		label := m.Title
		if m.Agg != "median" && m.Unit == "count" {
			label += " [" + m.Agg + "]"
		}
		row(m, label, m.value)
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for n, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
		if n == 0 {
			total := len(widths)*2 - 2
			for _, x := range widths {
				total += x
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
	printFloor(w, r)
	printProblems(w, r)
}

func printFloor(w io.Writer, r *report) {
	run, cpu := r.metric("run"), r.metric("cpu_run")
	if run == nil {
		return
	}
	f := run.Values[floorName]
	if !f.ok() {
		fmt.Fprintln(w, "\nkernel floor: n/a")
		return
	}
	line := fmt.Sprintf("\nkernel floor (clone into new pid,mnt,net,ipc,uts,cgroup namespaces + chroot + exec /bin/true): median %s, p90 %s",
		formatValue("ms", f.Median), formatValue("ms", f.P90))
	if cpu != nil && cpu.Values[floorName].ok() {
		line += ", CPU " + formatValue("ms", cpu.Values[floorName].Median)
	}
	fmt.Fprintln(w, line)
	var parts []string
	for _, name := range []string{rtRuno, rtRunc, rtCrun} {
		if s := run.Values[name]; s.ok() && f.Median > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1fx", name, s.Median/f.Median))
		}
	}
	fmt.Fprintf(w, "run /bin/true median as a multiple of the floor: %s\n", strings.Join(parts, ", "))
}

func printProblems(w io.Writer, r *report) {
	var lines []string
	for _, m := range r.Metrics {
		for _, name := range []string{rtRuno, rtRunc, rtCrun, floorName} {
			s := m.Values[name]
			if s == nil {
				continue
			}
			switch {
			case s.NA != "":
				msg := s.NA
				if s.FirstError != "" && !strings.Contains(msg, s.FirstError) {
					msg += ": " + s.FirstError
				}
				lines = append(lines, fmt.Sprintf("%s / %s: n/a (%s)", m.Title, name, clip(msg, 300)))
			case s.FirstError != "" && (s.Errors > 0 || m.Unit == "count"):
				lines = append(lines, fmt.Sprintf("%s / %s: first error: %s", m.Title, name, clip(s.FirstError, 300)))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "\nproblems:")
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func readLoadavg() [3]float64 {
	var l [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	fmt.Sscanf(string(data), "%f %f %f", &l[0], &l[1], &l[2])
	return l
}
