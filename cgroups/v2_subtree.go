package cgroups

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ancestors lists the cgroup2 directories whose cgroup.subtree_control decides what dir
// gets: mount down to dir's parent, outermost first (the order controllers must be
// enabled in). dir must lie strictly below mount.
func ancestors(mount, dir string) ([]string, error) {
	rel, err := filepath.Rel(mount, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("cgroup: %s is not below %s", dir, mount)
	}
	parts := strings.Split(rel, "/")
	levels := make([]string, 0, len(parts))
	anc := mount
	levels = append(levels, anc)
	for _, p := range parts[:len(parts)-1] {
		anc = filepath.Join(anc, p)
		levels = append(levels, anc)
	}
	return levels, nil
}

// ensureControllers makes every controller in ctrls usable in the cgroup2 directory dir by
// enabling it in cgroup.subtree_control of each ancestor from mount down to dir's parent.
// Controllers already enabled are left alone, so nothing is written on a host that already
// delegates them; a controller that an ancestor cannot offer is an error naming it.
func ensureControllers(mount, dir string, ctrls []string) error {
	if len(ctrls) == 0 {
		return nil
	}
	// The kernel lists a controller in dir's cgroup.controllers only when the parent enables
	// it, which the parent can only do once its own parent did, and so on up: one read
	// settles the usual case where everything is delegated already.
	own, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("cgroup: read controllers of %s: %w", dir, err)
	}
	var missing []string
	for _, c := range ctrls {
		if !hasField(own, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	levels, err := ancestors(mount, dir)
	if err != nil {
		return err
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
		for _, c := range missing {
			if hasField(enabled, c) {
				continue
			}
			if !hasField(avail, c) {
				return fmt.Errorf("cgroup: controller %s is not available in %s", c, lvl)
			}
			if err := writeFile(lvl, "cgroup.subtree_control", "+"+c); err != nil {
				return fmt.Errorf("cgroup: enable controller %s in %s: %w", c, lvl, err)
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
