package cgroups

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// unifiedKeyController validates a linux.resources.unified key and returns the controller
// it belongs to ("memory" for "memory.high", "cgroup" for core files). Keys are file names
// in the container's own directory: anything that could name another file, or the files
// that move processes and manage the hierarchy, is refused.
func unifiedKeyController(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, "/\x00") || key == "." || key == ".." || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("cgroup: unified: invalid key %q", key)
	}
	ctrl, _, ok := strings.Cut(key, ".")
	if !ok || ctrl == "" {
		return "", fmt.Errorf("cgroup: unified: invalid key %q (want <controller>.<file>)", key)
	}
	switch key {
	case "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill", "cgroup.freeze", "cgroup.type":
		return "", fmt.Errorf("cgroup: unified: %s is managed by the runtime and cannot be set", key)
	}
	return ctrl, nil
}

// unifiedControllers validates the unified keys and returns the controllers they need,
// each once, in first-seen order. Core "cgroup.*" files need no controller.
func unifiedControllers(keys []string) ([]string, error) {
	var ctrls []string
	for _, k := range keys {
		ctrl, err := unifiedKeyController(k)
		if err != nil {
			return nil, err
		}
		if ctrl != "cgroup" && !slices.Contains(ctrls, ctrl) {
			ctrls = append(ctrls, ctrl)
		}
	}
	return ctrls, nil
}

// writeUnified writes the validated keys in order; a file that does not exist means the
// controller or feature is absent, which the spec requires to be an error.
func writeUnified(dir string, vals map[string]string, keys []string) error {
	for _, k := range keys {
		if !fileExists(dir, k) {
			return fmt.Errorf("cgroup: unified.%s: no such file in %s (controller missing or not enabled)", k, dir)
		}
		if err := writeFile(dir, k, vals[k]); err != nil {
			return resourceError("unified."+k, err)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
