package cgroups

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parseBlkioEntries parses blkio "maj:min Op value" lines; the "Total" line has no device
// and is skipped, as runc does.
func parseBlkioEntries(s string) []BlkioEntry {
	var out []BlkioEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 && len(f) != 2 {
			continue
		}
		maj, min, ok := parseDevNum(f[0])
		if !ok {
			continue
		}
		e := BlkioEntry{Major: maj, Minor: min}
		valS := f[len(f)-1]
		if len(f) == 3 {
			e.Op = f[1]
		}
		v, err := strconv.ParseUint(valS, 10, 64)
		if err != nil {
			continue
		}
		e.Value = v
		out = append(out, e)
	}
	return out
}

// parseDevNum parses a "major:minor" device number as the blkio and io files print it.
func parseDevNum(s string) (major, minor uint64, ok bool) {
	majS, minS, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	major, err1 := strconv.ParseUint(majS, 10, 64)
	minor, err2 := strconv.ParseUint(minS, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// parseCPUList expands "0-3,8" into [0 1 2 3 8].
func parseCPUList(s string) ([]uint16, error) {
	var out []uint16
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("parse cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("parse cpu list %q: bad range %q", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, uint16(i))
		}
	}
	return out, nil
}

// hugePageSizes lists the sizes the kernel supports, in the cgroup file naming ("2MB",
// "1GB"), from /sys/kernel/mm/hugepages.
func hugePageSizes() []string {
	ents, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil
	}
	var sizes []string
	for _, e := range ents {
		kbS, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(kbS, "kB"), 10, 64)
		if err != nil {
			continue
		}
		sizes = append(sizes, pageSizeName(kb*1024))
	}
	return sizes
}

// pageSizeName renders a byte count with the largest exact binary unit: 2097152 -> "2MB".
func pageSizeName(b uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for b >= 1024 && b%1024 == 0 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%d%s", b, units[i])
}
