package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func finished(m *metric, vals map[string][]float64) *metric {
	for name, vs := range vals {
		for _, v := range vs {
			m.of(name).add(v, nil)
		}
	}
	m.finish()
	return m
}

func sampleReport() *report {
	run := finished(newMetric("run", "run /bin/true", "ms", true, true, ""),
		map[string][]float64{rtRuno: {30, 40}, rtRunc: {60, 60}, rtCrun: {20, 20}, floorName: {5, 5}})
	leaks := finished(newMetric("leak_procs", "leaked processes", "count", false, false, "").withAgg("max"),
		map[string][]float64{rtRuno: {0, 2}, rtRunc: {0}, rtCrun: {0}})
	exec := newMetric("exec", "exec /bin/true", "ms", true, true, "")
	exec.of(rtRuno).NA = "exec failed: not implemented"
	finished(exec, map[string][]float64{rtRunc: {9}, rtCrun: {3}})
	return &report{Started: time.Unix(0, 0), Config: config{N: 2}, Metrics: []*metric{run, exec, leaks}}
}

func TestPrintTable(t *testing.T) {
	var buf bytes.Buffer
	printTable(&buf, sampleReport())
	out := buf.String()
	for _, want := range []string{
		"run /bin/true (median)", "35.0 ms", "60.0 ms", "20.0 ms", "1.75x", "0.58x",
		"run /bin/true (p90)", "2.00x",
		"exec /bin/true (median)", "n/a",
		"leaked processes [max]",
		"kernel floor", "median 5.00 ms", "runo 7.0x, runc 12.0x, crun 4.0x",
		"exec /bin/true / runo: n/a (exec failed: not implemented)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "leaked processes") && !strings.HasSuffix(strings.TrimSpace(line), "-") {
			t.Errorf("count rows must have no ratio: %q", line)
		}
		if strings.HasPrefix(line, "leaked processes") && !strings.Contains(line, " 2 ") {
			t.Errorf("leak row should show the max (2): %q", line)
		}
	}
}

func TestWritePlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "p.png")
	if err := writePlot(path, sampleReport()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w != plotWidth*plotScale {
		t.Fatalf("width %d, want %d", w, plotWidth*plotScale)
	}
	// runo's run bar is 1.75x crun's: its orange must reach past the 1x
	// line but not to 2x.
	scaleX := func(r float64) int {
		return (labelWidth + int(r/ratioCap*float64(plotWidth-valueWidth-labelWidth))) * plotScale
	}
	found := false
	for y := 0; y < img.Bounds().Dy() && !found; y++ {
		if colorAt(img, scaleX(1.5), y) == seriesColors[rtRuno] {
			found = colorAt(img, scaleX(1.9), y) != seriesColors[rtRuno]
		}
	}
	if !found {
		t.Fatal("no runo bar ending between 1.5x and 1.9x")
	}
}

func colorAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}
