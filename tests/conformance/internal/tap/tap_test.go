package tap

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Result
	}{
		{
			name: "plain passes and failures",
			in:   "TAP version 13\nok 1 - a\nnot ok 2 - b\nok 3 - c\n1..3\n",
			want: Result{Pass: 2, Fail: 1, Plan: 3, Streams: 1, HeaderSeen: true, FailedNames: []string{"b"}},
		},
		{
			name: "skip and todo directives",
			in:   "TAP version 13\n1..4\nok 1 # SKIP hostname not set\nnot ok 2 - x # TODO later\nok 3 # skip lower case\nnot ok 4 - real\n",
			want: Result{Fail: 1, Skip: 2, Todo: 1, Plan: 4, Streams: 1, HeaderSeen: true, FailedNames: []string{"real"}},
		},
		{
			name: "nested TAP inside a diagnostic is not counted",
			in: "TAP version 13\n  ---\n  {\n    \"stdout\": \"TAP version 13\\nnot ok 1 - inner\\n1..1\\n\"\n  }\n  ...\n" +
				"ok 1 - outer\n1..1\n",
			want: Result{Pass: 1, Plan: 1, Streams: 1, HeaderSeen: true},
		},
		{
			name: "orphan error diagnostic under an empty plan is a failure",
			in:   "TAP version 13\n  ---\n  {\n    \"error\": \"prestart hooks MUST ...\"\n  }\n  ...\n1..0\n",
			want: Result{Plan: 0, Streams: 1, HeaderSeen: true, OrphanErrors: []string{"prestart hooks MUST ..."}},
		},
		{
			name: "empty plan without diagnostics",
			in:   "TAP version 13\n1..0\n",
			want: Result{Plan: 0, Streams: 1, HeaderSeen: true},
		},
		{
			name: "error diagnostic attached to a test line is that test's detail",
			in:   "TAP version 13\nok 1 - runtime refused bad config\n  ---\n  {\n    \"error\": \"exit status 1\"\n  }\n  ...\n1..1\n",
			want: Result{Pass: 1, Plan: 1, Streams: 1, HeaderSeen: true},
		},
		{
			name: "second consecutive block is an orphan",
			in:   "TAP version 13\nok 1 - a\n  ---\n  {\"k\": 1}\n  ...\n  ---\n  {\"error\": \"late\"}\n  ...\n1..1\n",
			want: Result{Pass: 1, Plan: 1, Streams: 1, HeaderSeen: true, OrphanErrors: []string{"late"}},
		},
		{
			name: "non-JSON YAML error key",
			in:   "TAP version 13\n  ---\n  error: boom\n  ...\n1..0\n",
			want: Result{Streams: 1, HeaderSeen: true, OrphanErrors: []string{"boom"}},
		},
		{
			name: "multi-line description keeps its diagnostic",
			in:   "TAP version 13\nok 1 - state MUST generate an error\nRefer to: https://example/runtime.md\n  ---\n  {\"error\": \"exit status 1\"}\n  ...\n1..1\n",
			want: Result{Pass: 1, Streams: 1, Plan: 1, HeaderSeen: true},
		},
		{
			name: "headerless and planless",
			in:   "ok 1 - a\n",
			want: Result{Pass: 1, Streams: 1, PlanErrors: []string{"stream 1: no plan after 1 tests"}},
		},
		{
			name: "bail out",
			in:   "TAP version 13\nBail out! no runtime\n",
			want: Result{Streams: 1, HeaderSeen: true, PlanErrors: []string{"stream 1: no plan after 0 tests"}, BailOut: "no runtime"},
		},
		{
			name: "one document per sub-test",
			in:   "TAP version 13\nok 1 - a\nok 2 - b\n1..2\nTAP version 13\n1..0\nTAP version 13\n1..1\nok 1 - c\n",
			want: Result{Pass: 3, Streams: 3, Plan: 3, HeaderSeen: true},
		},
		{
			name: "a short document among several",
			in:   "TAP version 13\nok 1 - a\n1..1\nTAP version 13\n1..3\nok 1 - b\n",
			want: Result{Pass: 2, Streams: 2, Plan: 4, HeaderSeen: true, PlanErrors: []string{"stream 2: plan 1..3 but 1 tests ran"}},
		},
		{
			name: "headerless documents split at a used-up leading plan",
			in:   "1..1\nok 1 - a\nok 1 - b\n1..1\n",
			want: Result{Pass: 2, Streams: 2, Plan: 2},
		},
		{
			name: "more tests than a leading plan",
			in:   "TAP version 13\n1..1\nok 1 - a\nok 2 - b\n",
			want: Result{Pass: 2, Streams: 2, Plan: 1, HeaderSeen: true, PlanErrors: []string{"stream 2: no plan after 1 tests"}},
		},
		{
			name: "no output at all",
			in:   "",
			want: Result{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseUnterminatedYAML(t *testing.T) {
	_, err := Parse(strings.NewReader("TAP version 13\n  ---\n  {\"error\": \"x\"}\n"))
	if err == nil {
		t.Fatal("Parse accepted an unterminated YAML block")
	}
}
