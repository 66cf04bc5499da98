package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validPagesize accepts what hugetlb file names use: digits and a unit, "2MB", "1GB".
// (A hand-written check: a package-level regexp is compiled at every runo start.)
func validPagesize(s string) bool {
	n := len(s)
	if n < 3 || s[n-1] != 'B' || !strings.ContainsRune("KMGT", rune(s[n-2])) {
		return false
	}
	for _, c := range s[:n-2] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hugetlbWrites lists the files to write for one limit. The spec prefers reservation limits
// where the kernel has them (they stop a mmap that cannot be backed, instead of SIGBUS at
// fault time), and the fault limit is always set too so that usage is capped on kernels
// without reservations.
func hugetlbWrites(dir string, l specs.LinuxHugepageLimit, v2 bool) (map[string]string, error) {
	if !validPagesize(l.Pagesize) {
		return nil, fmt.Errorf("cgroup: hugepageLimits: invalid page size %q", l.Pagesize)
	}
	limit, rsvd := "hugetlb."+l.Pagesize+".limit_in_bytes", "hugetlb."+l.Pagesize+".rsvd.limit_in_bytes"
	if v2 {
		limit, rsvd = "hugetlb."+l.Pagesize+".max", "hugetlb."+l.Pagesize+".rsvd.max"
	}
	if !fileExists(dir, limit) {
		return nil, errNotAvailable("hugepageLimits", limit)
	}
	val := strconv.FormatUint(l.Limit, 10)
	w := map[string]string{limit: val}
	if fileExists(dir, rsvd) {
		w[rsvd] = val
	}
	return w, nil
}

func applyHugetlb(dir string, limits []specs.LinuxHugepageLimit, v2 bool) error {
	for _, l := range limits {
		w, err := hugetlbWrites(dir, l, v2)
		if err != nil {
			return err
		}
		for f, v := range w {
			if err := writeFile(dir, f, v); err != nil {
				return resourceError("hugepageLimits."+l.Pagesize, err)
			}
		}
	}
	return nil
}

// setHugetlb uses the v1 hugetlb hierarchy, or on hybrid hosts that only offer hugetlb in
// the cgroup2 hierarchy, the container's cgroup2 directory.
func (m *v1Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if dir := m.path("hugetlb"); dir != "" {
		return applyHugetlb(dir, r.HugepageLimits, false)
	}
	if m.unified == "" {
		return fmt.Errorf("cgroup: hugepageLimits: the hugetlb controller is not mounted")
	}
	if err := ensureControllers(m.unifiedMount.Mountpoint, m.unified, []string{"hugetlb"}); err != nil {
		return resourceError("hugepageLimits", err)
	}
	return applyHugetlb(m.unified, r.HugepageLimits, true)
}
