package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The chart is laid out in small logical pixels (the 7x13 bitmap font's
// scale) and then enlarged by plotScale with nearest-neighbour sampling, so
// the text stays crisp and readable without a vector font.
const (
	plotScale   = 2
	plotWidth   = 860
	labelWidth  = 200
	valueWidth  = 170
	barHeight   = 11
	barGap      = 2
	groupGap    = 12
	ratioCap    = 4.0
	headerLines = 4
)

var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colText       = color.RGBA{20, 20, 20, 255}
	colMuted      = color.RGBA{110, 110, 110, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colOne        = color.RGBA{60, 60, 60, 255}
	seriesColors  = map[string]color.RGBA{
		rtRuno:    {230, 120, 20, 255},
		rtRunc:    {50, 110, 200, 255},
		rtCrun:    {150, 150, 150, 255},
		floorName: {70, 170, 90, 255},
	}
	seriesOrder = []string{rtRuno, rtRunc, rtCrun, floorName}
)

type canvas struct {
	img  *image.RGBA
	face font.Face
}

func (c *canvas) text(x, y int, col color.Color, s string) {
	d := &font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: c.face,
		Dot: fixed.P(x, y+c.face.Metrics().Ascent.Ceil())}
	d.DrawString(s)
}

func (c *canvas) textWidth(s string) int {
	return (&font.Drawer{Face: c.face}).MeasureString(s).Ceil()
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

// dashedV draws a vertical dashed line.
func (c *canvas) dashedV(x, y0, y1 int, col color.RGBA) {
	for y := y0; y < y1; y++ {
		if (y/3)%2 == 0 {
			c.img.SetRGBA(x, y, col)
		}
	}
}

// writePlot draws one horizontal bar group per plotted metric, each bar the
// runtime's value divided by crun's (crun = 1.0; lower is better).
func writePlot(path string, r *report) error {
	var metrics []*metric
	for _, m := range r.Metrics {
		if m.Plot {
			metrics = append(metrics, m)
		}
	}
	lineH := basicfont.Face7x13.Metrics().Height.Ceil() + 2
	top := headerLines*lineH + 16
	height := top + 30
	for _, m := range metrics {
		height += groupGap + len(seriesIn(m))*(barHeight+barGap)
	}
	height += 4 * lineH

	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, plotWidth, height)), face: basicfont.Face7x13}
	c.rect(0, 0, plotWidth, height, colBackground)

	c.text(10, 6, colText, "runo vs runc vs crun: each bar = runtime / crun (crun = 1.0), lower is better")
	c.text(10, 6+lineH, colMuted, fmt.Sprintf("%s  kernel %s, cgroup %s, %d CPUs, load %.1f -> %.1f, n=%d per latency metric",
		r.Started.Format(time.DateTime), r.Host.Kernel, r.Host.CgroupMode, r.Host.CPUs,
		r.Host.LoadBefore[0], r.Host.LoadAfter[0], r.Config.N))
	c.text(10, 6+2*lineH, colMuted, "labels: median value (ratio to crun); bars past 4x are cut at the edge, marked >>")
	lx := 10
	for _, name := range seriesOrder {
		c.rect(lx, 6+3*lineH+2, lx+10, 6+3*lineH+12, seriesColors[name])
		label := name
		if name == floorName {
			label = "kernel floor (no runtime)"
		}
		c.text(lx+14, 6+3*lineH, colText, label)
		lx += 14 + c.textWidth(label) + 20
	}

	x0 := labelWidth
	x1 := plotWidth - valueWidth
	px := func(ratio float64) int { return x0 + int(math.Round(ratio/ratioCap*float64(x1-x0))) }
	bottom := height - 4*lineH - 4
	for t := 0.0; t <= ratioCap; t += 0.5 {
		x := px(t)
		c.rect(x, top-4, x+1, bottom, colGrid)
		if t == math.Trunc(t) {
			lbl := fmt.Sprintf("%gx", t)
			c.text(x-c.textWidth(lbl)/2, bottom+4, colMuted, lbl)
		}
	}

	y := top
	for _, m := range metrics {
		y += groupGap
		series := seriesIn(m)
		groupH := len(series)*(barHeight+barGap) - barGap
		c.text(10, y+groupH/2-lineH/2, colText, m.Title)
		base := m.Values[rtCrun]
		for _, name := range series {
			s := m.Values[name]
			switch {
			case !s.ok():
				c.text(x0+4, y, colMuted, name+": n/a")
			case !base.ok() || m.value(base) == 0:
				c.text(x0+4, y, colMuted, name+": "+formatValue(m.Unit, m.value(s))+" (no crun value)")
			default:
				ratio := m.value(s) / m.value(base)
				w := px(math.Min(ratio, ratioCap)) - x0
				c.rect(x0, y, x0+max(w, 1), y+barHeight, seriesColors[name])
				if ratio > ratioCap {
					c.text(x1-14, y-1, colBackground, ">>")
				}
				c.text(x1+6, y-1, colText, fmt.Sprintf("%s (%.2fx)", formatValue(m.Unit, m.value(s)), ratio))
			}
			y += barHeight + barGap
		}
	}
	c.text(10, bottom+4+2*lineH, colText, checksLine(r, "parallel errors", func(m *metric) bool { return m.Key == "par_errors" }))
	c.text(10, bottom+4+3*lineH, colText, checksLine(r, "leaks (parallel: mounts+cgroups+state dirs+processes; all phases: leftovers)",
		func(m *metric) bool { return strings.HasPrefix(m.Key, "leak_") || m.Key == "leftovers" }))
	one := px(1)
	c.dashedV(one, top-4, bottom, colOne)
	c.dashedV(one+1, top-4, bottom, colOne)

	out := upscale(c.img, plotScale)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := png.Encode(f, out); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// checksLine sums the count metrics selected by pick, per runtime: the
// correctness side of the run (they must all be 0).
func checksLine(r *report, label string, pick func(*metric) bool) string {
	var parts []string
	for _, name := range []string{rtRuno, rtRunc, rtCrun} {
		total, seen := 0.0, false
		for _, m := range r.Metrics {
			if s := m.Values[name]; pick(m) && s.ok() {
				total += m.value(s)
				seen = true
			}
		}
		if seen {
			parts = append(parts, fmt.Sprintf("%s %.0f", name, total))
		} else {
			parts = append(parts, name+" n/a")
		}
	}
	return label + " (must be 0): " + strings.Join(parts, ", ")
}

// seriesIn lists the bars of a metric: the three runtimes, plus the floor
// where the metric has one.
func seriesIn(m *metric) []string {
	out := []string{rtRuno, rtRunc, rtCrun}
	if _, ok := m.Values[floorName]; ok {
		out = append(out, floorName)
	}
	return out
}

func upscale(src *image.RGBA, k int) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := 0; y < b.Dy()*k; y++ {
		for x := 0; x < b.Dx()*k; x++ {
			dst.SetRGBA(x, y, src.RGBAAt(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return dst
}
