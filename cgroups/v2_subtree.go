package cgroups

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ensureControllers makes every controller in ctrls usable in the cgroup2 directory dir by
// enabling it in cgroup.subtree_control of each ancestor from mount down to dir's parent.
// Controllers already enabled are left alone, so nothing is written on a host that already
// delegates them; a controller that an ancestor cannot offer is an error naming it.
func ensureControllers(mount, dir string, ctrls []string) error {
	if len(ctrls) == 0 {
		return nil
	}
	rel, err := filepath.Rel(mount, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup: %s is not below %s", dir, mount)
	}
	anc := mount
	levels := []string{anc}
	if rel != "." {
		parts := strings.Split(rel, "/")
		for _, p := range parts[:len(parts)-1] {
			anc = filepath.Join(anc, p)
			levels = append(levels, anc)
		}
	} else {
		levels = nil
	}
	for _, lvl := range levels {
		avail, err := readFile(lvl, "cgroup.controllers")
		if err != nil {
			return fmt.Errorf("cgroup: read controllers of %s: %w", lvl, err)
		}
		enabled, err := readFile(lvl, "cgroup.subtree_control")
		if err != nil {
			return fmt.Errorf("cgroup: read subtree_control of %s: %w", lvl, err)
		}
		for _, c := range ctrls {
			if hasField(enabled, c) {
				continue
			}
			if !hasField(avail, c) {
				return fmt.Errorf("cgroup: controller %s is not available in %s", c, lvl)
			}
			if err := writeFile(lvl, "cgroup.subtree_control", "+"+c); err != nil {
				return fmt.Errorf("cgroup: enable controller %s: %w", c, err)
			}
		}
	}
	return nil
}

func hasField(list, f string) bool {
	for _, x := range strings.Fields(list) {
		if x == f {
			return true
		}
	}
	return false
}
