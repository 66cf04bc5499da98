package cgroups

import (
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// On a hybrid host whose hugetlb controller lives only in the cgroup2 hierarchy, hugepage
// limits (and unified keys for it) go to the container's cgroup2 directory.
func TestHybridHugetlb(t *testing.T) {
	m, _ := v1TestManager(t)
	if m.unified == "" || m.path("hugetlb") != "" {
		t.Skip("needs a hybrid host with hugetlb only in the cgroup2 hierarchy")
	}
	if !hasField(readTrim(t, filepath.Join(m.unifiedMount.Mountpoint, "cgroup.controllers")), "hugetlb") {
		t.Skip("the cgroup2 hierarchy has no hugetlb controller")
	}
	sizes := hugePageSizes()
	if !slices.Contains(sizes, "2MB") {
		t.Skipf("kernel has no 2MB huge pages (sizes %v)", sizes)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		r    specs.LinuxResources
		want string
	}{
		{"hugepageLimits", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}, "4194304"},
		{"unified key", specs.LinuxResources{Unified: map[string]string{"hugetlb.2MB.max": "8388608"}}, "8388608"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Set(&tc.r); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got := readTrim(t, filepath.Join(m.unified, "hugetlb.2MB.max")); got != tc.want {
				t.Errorf("hugetlb.2MB.max = %q, want %q", got, tc.want)
			}
		})
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Hugetlb["2MB"]; !ok {
		t.Errorf("Stats lacks hugetlb 2MB: %+v", st.Hugetlb)
	}
}
