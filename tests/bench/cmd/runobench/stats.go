package main

import (
	"math"
	"sort"
)

// stat summarises the samples of one metric for one runtime. Failed samples
// are counted in Errors and excluded from the statistics.
type stat struct {
	N          int       `json:"n"`
	Errors     int       `json:"errors"`
	Median     float64   `json:"median"`
	P90        float64   `json:"p90"`
	Min        float64   `json:"min"`
	Max        float64   `json:"max"`
	Mean       float64   `json:"mean"`
	Sum        float64   `json:"sum"`
	Samples    []float64 `json:"samples,omitempty"`
	NA         string    `json:"na,omitempty"`
	FirstError string    `json:"first_error,omitempty"`
}

func (s *stat) ok() bool { return s != nil && s.NA == "" && s.N > 0 }

func (s *stat) add(v float64, err error) {
	if err != nil {
		s.Errors++
		if s.FirstError == "" {
			s.FirstError = err.Error()
		}
		return
	}
	s.Samples = append(s.Samples, v)
}

// finish computes the summary; median and p90 use the nearest-rank method
// on the sorted successful samples.
func (s *stat) finish() {
	s.N = len(s.Samples)
	if s.N == 0 {
		if s.NA == "" {
			s.NA = "no successful sample"
		}
		return
	}
	sorted := append([]float64(nil), s.Samples...)
	sort.Float64s(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	s.Sum = sum
	s.Mean = sum / float64(len(sorted))
	s.Median = percentile(sorted, 50)
	s.P90 = percentile(sorted, 90)
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	if p == 50 && len(sorted)%2 == 0 {
		n := len(sorted)
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// metric is one row group of the report.
type metric struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	Unit  string `json:"unit"` // ms, s, KiB, MiB, count
	// Dist: a distribution, the table shows median and p90 rows.
	Dist bool `json:"distribution"`
	// Plot: drawn in the PNG (normalised to crun).
	Plot bool `json:"plot"`
	// Agg is the number shown for the metric: median (default), sum, min
	// or max of the samples.
	Agg    string           `json:"aggregate"`
	Note   string           `json:"note,omitempty"`
	Values map[string]*stat `json:"values"`
}

func newMetric(key, title, unit string, dist, plot bool, note string) *metric {
	return &metric{Key: key, Title: title, Unit: unit, Dist: dist, Plot: plot, Note: note, Agg: "median", Values: map[string]*stat{}}
}

func (m *metric) withAgg(agg string) *metric {
	m.Agg = agg
	return m
}

// value is the headline number of a finished stat under the metric's Agg.
func (m *metric) value(s *stat) float64 {
	switch m.Agg {
	case "sum":
		return s.Sum
	case "min":
		return s.Min
	case "max":
		return s.Max
	}
	return s.Median
}

func (m *metric) of(name string) *stat {
	s := m.Values[name]
	if s == nil {
		s = &stat{}
		m.Values[name] = s
	}
	return s
}

func (m *metric) finish() {
	for _, s := range m.Values {
		s.finish()
	}
}
