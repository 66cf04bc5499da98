package expect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    List
		wantErr string
	}{
		{
			name: "entries comments and blanks",
			in:   "# header\n\nlinux_cgroups_hugetlb   host has no hugetlb v1 controller\n  # indented comment\nkillsig test races\n",
			want: List{"linux_cgroups_hugetlb": "host has no hugetlb v1 controller", "killsig": "test races"},
		},
		{name: "missing reason", in: "killsig\n", wantErr: "no reason"},
		{name: "duplicate", in: "a x\na y\n", wantErr: "listed twice"},
		{name: "empty", in: "", want: List{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	l, err := Load("")
	if err != nil || len(l) != 0 {
		t.Fatalf("Load(\"\") = %v, %v; want empty list", l, err)
	}
	p := filepath.Join(t.TempDir(), "x.txt")
	if err := os.WriteFile(p, []byte("a because\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = Load(p)
	if err != nil || l["a"] != "because" {
		t.Fatalf("Load = %v, %v", l, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestCompare(t *testing.T) {
	l := List{"a": "r", "b": "r", "c": "r", "gone": "r"}
	outcomes := map[string]Outcome{
		"a": Fail, // expected failure
		"b": Pass, // stale entry
		"c": Skip, // listed but skipped: tolerated
		"d": Fail, // regression
		"e": Pass,
		"f": Skip,
	}
	known := []string{"a", "b", "c", "d", "e", "f", "filtered"}
	got := Compare(l, outcomes, known)
	want := Report{
		ExpectedFailures:   []string{"a"},
		UnexpectedFailures: []string{"d"},
		UnexpectedPasses:   []string{"b"},
		UnknownEntries:     []string{"gone"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Compare =\n%+v\nwant\n%+v", got, want)
	}
	if got.OK() {
		t.Error("OK() = true for a run with regressions")
	}
	clean := Compare(List{"a": "r"}, map[string]Outcome{"a": Fail, "e": Pass}, known)
	if !clean.OK() {
		t.Errorf("OK() = false for %+v", clean)
	}
}

func TestFlakyEntryToleratesBothOutcomes(t *testing.T) {
	l := List{"poststart": "flaky: races the container's own write", "hooks": "test bug"}
	known := []string{"poststart", "hooks"}
	for _, o := range []Outcome{Pass, Fail} {
		rep := Compare(l, map[string]Outcome{"poststart": o, "hooks": Fail}, known)
		if !rep.OK() {
			t.Errorf("flaky entry with outcome %v: report %+v", o, rep)
		}
	}
	rep := Compare(l, map[string]Outcome{"poststart": Pass, "hooks": Pass}, known)
	if rep.OK() || len(rep.UnexpectedPasses) != 1 || rep.UnexpectedPasses[0] != "hooks" {
		t.Errorf("a stale non-flaky entry must still fail the run: %+v", rep)
	}
}
