package cgroups

import (
	"fmt"
	"time"
)

// freezeTimeout bounds the wait for the kernel to stop (or resume) every task. Tasks in
// uninterruptible sleep (e.g. in a FUSE request) may never freeze; the caller gets an error
// and the cgroup is thawed rather than left half-frozen.
const freezeTimeout = 5 * time.Second

func (m *v1Manager) Freeze() error { return m.setFreezer("FROZEN") }
func (m *v1Manager) Thaw() error   { return m.setFreezer("THAWED") }

func (m *v1Manager) setFreezer(state string) error {
	dir := m.path("freezer")
	if dir == "" {
		return fmt.Errorf("cgroup: freezer: the freezer controller is not mounted")
	}
	deadline := time.Now().Add(freezeTimeout)
	delay := 100 * time.Microsecond
	for {
		// Re-writing FROZEN nudges tasks that forked while the freeze was in progress.
		if err := writeFile(dir, "freezer.state", state); err != nil {
			return resourceError("freezer", err)
		}
		cur, err := readFile(dir, "freezer.state")
		if err != nil {
			return resourceError("freezer", err)
		}
		if cur == state {
			return nil
		}
		if time.Now().After(deadline) {
			if state == "FROZEN" {
				_ = writeFile(dir, "freezer.state", "THAWED")
			}
			return fmt.Errorf("cgroup: freezer: still %s after %v waiting for %s", cur, freezeTimeout, state)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

func (m *v1Manager) Frozen() (bool, error) {
	dir := m.path("freezer")
	if dir == "" {
		return false, nil
	}
	// self_freezing distinguishes our own freeze from one inherited from a frozen parent;
	// either way the processes are stopped, which is what callers ask about.
	cur, err := readFile(dir, "freezer.state")
	if err != nil {
		return false, resourceError("freezer", err)
	}
	return cur == "FROZEN", nil
}
