package cgroups

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseBlkioEntries(t *testing.T) {
	in := "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n254:16 Total 7\nTotal 4608\n"
	want := []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 512}, {8, 0, "Sync", 0}, {254, 16, "Total", 7}}
	if got := parseBlkioEntries(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseCPUList(t *testing.T) {
	cases := []struct {
		in   string
		want []uint16
		err  bool
	}{
		{"", nil, false},
		{"0", []uint16{0}, false},
		{"0-3,8", []uint16{0, 1, 2, 3, 8}, false},
		{"3-1", nil, true},
		{"x", nil, true},
	}
	for _, tc := range cases {
		got, err := parseCPUList(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v (err %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	got := parseKeyValues("usage_usec 10\nnr_periods 3\nbogus\nsome avg10=0.00\nmax max\n")
	want := map[string]uint64{"usage_usec": 10, "nr_periods": 3, "max": ^uint64(0)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPageSizeName(t *testing.T) {
	for in, want := range map[uint64]string{2 << 20: "2MB", 1 << 30: "1GB", 64 << 10: "64KB", 1536: "1536B"} {
		if got := pageSizeName(in); got != want {
			t.Errorf("pageSizeName(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestPidsMaxValue(t *testing.T) {
	for in, want := range map[int64]string{-1: "max", -5: "max", 0: "0", 1: "1", 32771: "32771"} {
		if got := pidsMaxValue(in); got != want {
			t.Errorf("pidsMaxValue(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestDeviceRules(t *testing.T) {
	in := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptrI64(1), Minor: ptrI64(3), Access: "rw"},
		{Allow: true, Type: "b", Major: ptrI64(8), Access: "r"},
		{Allow: true, Type: "c", Minor: ptrI64(5)},
	}
	rules, err := parseDeviceRules(in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.v1String())
	}
	want := []string{"a *:* rwm", "c 1:3 rw", "b 8:* r", "c *:5 rwm"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v1 strings = %q, want %q", got, want)
	}
	list, ok := expectedDevicesList(rules)
	if !ok || !reflect.DeepEqual(list, want[1:]) {
		t.Errorf("expectedDevicesList = %q, %v", list, ok)
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "z"}, {Type: "c", Access: "rx"}, {Type: "c", Access: "rr"}, {Type: "c", Major: ptrI64(-2)}} {
		if _, err := parseDeviceRules([]specs.LinuxDeviceCgroup{bad}); err == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

func TestUnifiedKeyController(t *testing.T) {
	cases := []struct{ key, ctrl, errSub string }{
		{"memory.high", "memory", ""},
		{"hugetlb.2MB.max", "hugetlb", ""},
		{"cgroup.max.depth", "cgroup", ""},
		{"cgroup.procs", "", "managed by the runtime"},
		{"cgroup.subtree_control", "", "managed by the runtime"},
		{"../memory.max", "", "invalid key"},
		{"a/b", "", "invalid key"},
		{"..", "", "invalid key"},
		{"nodot", "", "invalid key"},
	}
	for _, tc := range cases {
		ctrl, err := unifiedKeyController(tc.key)
		if tc.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%q: err %v, want %q", tc.key, err, tc.errSub)
			}
			continue
		}
		if err != nil || ctrl != tc.ctrl {
			t.Errorf("%q: got %q, %v; want %q", tc.key, ctrl, err, tc.ctrl)
		}
	}
}

func TestRdmaLines(t *testing.T) {
	got, err := rdmaLines(map[string]specs.LinuxRdma{
		"mlx5_1": {HcaObjects: ptrU32(10)},
		"mlx5_0": {HcaHandles: ptrU32(2), HcaObjects: ptrU32(3)},
		"skip":   {},
	})
	want := []string{"mlx5_0 hca_handle=2 hca_object=3", "mlx5_1 hca_object=10"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("rdmaLines = %q, %v; want %q", got, err, want)
	}
	if _, err := rdmaLines(map[string]specs.LinuxRdma{"a b": {HcaHandles: ptrU32(1)}}); err == nil {
		t.Error("device name with a space accepted")
	}
}

func TestParseDevNum(t *testing.T) {
	cases := []struct {
		in       string
		maj, min uint64
		ok       bool
	}{
		{"8:0", 8, 0, true},
		{"254:16", 254, 16, true},
		{"Total", 0, 0, false},
		{"8", 0, 0, false},
		{"8:x", 0, 0, false},
		{"-1:0", 0, 0, false},
		{":", 0, 0, false},
	}
	for _, tc := range cases {
		maj, min, ok := parseDevNum(tc.in)
		if maj != tc.maj || min != tc.min || ok != tc.ok {
			t.Errorf("parseDevNum(%q) = %d, %d, %v; want %d, %d, %v", tc.in, maj, min, ok, tc.maj, tc.min, tc.ok)
		}
	}
}

func TestBlockIORequested(t *testing.T) {
	cases := []struct {
		name string
		b    *specs.LinuxBlockIO
		want bool
	}{
		{"nil", nil, false},
		{"empty", &specs.LinuxBlockIO{}, false},
		// A zero weight is still a request: the setters decide that 0 means "unset".
		{"weight zero", &specs.LinuxBlockIO{Weight: ptrU16(0)}, true},
		{"leaf weight", &specs.LinuxBlockIO{LeafWeight: ptrU16(10)}, true},
		{"weight device", &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{}}}, true},
		{"read bps", &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{throttle(8, 0, 1)}}, true},
		{"write bps", &specs.LinuxBlockIO{ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{throttle(8, 0, 1)}}, true},
		{"read iops", &specs.LinuxBlockIO{ThrottleReadIOPSDevice: []specs.LinuxThrottleDevice{throttle(8, 0, 1)}}, true},
		{"write iops", &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{throttle(8, 0, 1)}}, true},
	}
	for _, tc := range cases {
		if got := blockIORequested(tc.b); got != tc.want {
			t.Errorf("%s: blockIORequested = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUnifiedControllers(t *testing.T) {
	cases := []struct {
		name   string
		keys   []string
		want   []string
		errSub string
	}{
		{"none", nil, nil, ""},
		{"core files need nothing", []string{"cgroup.max.depth", "cgroup.max.descendants"}, nil, ""},
		{"deduplicated in order", []string{"memory.high", "io.max", "memory.low", "io.weight"}, []string{"memory", "io"}, ""},
		{"invalid key", []string{"memory.high", "../memory.max"}, nil, "invalid key"},
		{"managed key", []string{"cgroup.procs"}, nil, "managed by the runtime"},
	}
	for _, tc := range cases {
		got, err := unifiedControllers(tc.keys)
		if tc.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.errSub)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
