package cgroups

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setDevices makes the device allowlist exactly "deny everything, then the rules in
// order". A nil Devices leaves the list alone (an update that does not mention devices).
func (m *v1Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	dir := m.path("devices")
	if dir == "" {
		return fmt.Errorf("cgroup: devices: the devices controller is not mounted")
	}
	// Rewriting an unchanged list would deny every device to the running container for
	// a moment (an update of, say, the memory limit re-sends the same devices), so skip
	// the write when the kernel already holds the result.
	if want, ok := expectedDevicesList(rules); ok {
		cur, err := readFile(dir, "devices.list")
		if err == nil && sameLines(cur, want) {
			return nil
		}
	}
	if err := writeFile(dir, "devices.deny", "a"); err != nil {
		return resourceError("devices", err)
	}
	for _, rule := range rules {
		file := "devices.deny"
		if rule.Allow {
			file = "devices.allow"
		}
		if err := writeFile(dir, file, rule.v1String()); err != nil {
			return resourceError("devices", err)
		}
	}
	return nil
}

// expectedDevicesList predicts devices.list after the writes, for the common shape of
// rule lists: denials of everything followed by allow rules. Anything else is reported as
// unpredictable (false) and simply rewritten.
func expectedDevicesList(rules []deviceRule) ([]string, bool) {
	var allows []string
	seen := map[string]bool{}
	for i, r := range rules {
		if !r.Allow {
			if len(allows) > 0 || r.Type != 'a' || r.Major >= 0 || r.Minor >= 0 || i > 0 && rules[i-1].Allow {
				return nil, false
			}
			continue
		}
		if r.Type == 'a' {
			return nil, false // allow-all switches the kernel's default mode
		}
		s := r.v1String()
		if seen[s] {
			return nil, false
		}
		seen[s] = true
		allows = append(allows, s)
	}
	return allows, true
}

func sameLines(cur string, want []string) bool {
	have := strings.Split(strings.TrimSpace(cur), "\n")
	if strings.TrimSpace(cur) == "" {
		have = nil
	}
	if len(have) != len(want) {
		return false
	}
	w := append([]string(nil), want...)
	sort.Strings(have)
	sort.Strings(w)
	for i := range have {
		if have[i] != w[i] {
			return false
		}
	}
	return true
}
