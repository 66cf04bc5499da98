package main

import (
	"errors"
	"math"
	"testing"
)

func TestStatFinish(t *testing.T) {
	tests := []struct {
		name                 string
		samples              []float64
		errs                 int
		median, p90, min, mx float64
		sum                  float64
		na                   bool
	}{
		{name: "odd", samples: []float64{5, 1, 3}, median: 3, p90: 5, min: 1, mx: 5, sum: 9},
		{name: "even averages the middle", samples: []float64{4, 1, 3, 2}, median: 2.5, p90: 4, min: 1, mx: 4, sum: 10},
		{name: "p90 nearest rank of ten", samples: []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, median: 5.5, p90: 9, min: 1, mx: 10, sum: 55},
		{name: "errors excluded", samples: []float64{7}, errs: 2, median: 7, p90: 7, min: 7, mx: 7, sum: 7},
		{name: "only errors is n/a", errs: 3, na: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s stat
			for _, v := range tc.samples {
				s.add(v, nil)
			}
			for i := 0; i < tc.errs; i++ {
				s.add(123, errors.New("boom"))
			}
			s.finish()
			if s.Errors != tc.errs {
				t.Fatalf("errors = %d, want %d", s.Errors, tc.errs)
			}
			if tc.na {
				if s.ok() || s.NA == "" || s.FirstError != "boom" {
					t.Fatalf("want n/a with first error, got %+v", s)
				}
				return
			}
			got := []float64{s.Median, s.P90, s.Min, s.Max, s.Sum}
			want := []float64{tc.median, tc.p90, tc.min, tc.mx, tc.sum}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-9 {
					t.Fatalf("median,p90,min,max,sum = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestMetricValueAggregates(t *testing.T) {
	tests := []struct {
		agg  string
		want float64
	}{{"median", 2}, {"sum", 6}, {"min", 1}, {"max", 3}}
	for _, tc := range tests {
		m := newMetric("k", "t", "count", false, false, "").withAgg(tc.agg)
		for _, v := range []float64{3, 1, 2} {
			m.of(rtRuno).add(v, nil)
		}
		m.finish()
		if got := m.value(m.Values[rtRuno]); got != tc.want {
			t.Errorf("agg %s = %v, want %v", tc.agg, got, tc.want)
		}
	}
}
