package capabilities

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ApplyBounding drops from the calling thread's bounding set every
// capability (up to the kernel's last one, including capabilities this
// build cannot name) that the configuration does not list. It needs
// CAP_SETPCAP, so it must run before privileges are dropped.
func (c *Caps) ApplyBounding() error {
	if c == nil {
		return nil
	}
	for nr := 0; nr <= c.lastCap; nr++ {
		if c.bounding&(1<<uint(nr)) != 0 {
			continue
		}
		if c.inBoundingKnown {
			if c.inBounding&(1<<uint(nr)) == 0 {
				continue
			}
		} else if present, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(nr), 0, 0, 0); err != nil {
			return fmt.Errorf("read bounding capability %d: %w", nr, err)
		} else if present == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(nr), 0, 0, 0); err != nil {
			return fmt.Errorf("drop bounding capability %d: %w", nr, err)
		}
	}
	return nil
}

// ApplyCaps sets the calling thread's effective, permitted and inheritable
// sets to exactly the configured ones (an absent set is empty: in
// particular inheritable is never left as inherited, CVE-2022-29162), then
// resets the ambient set to the configured one. Call it after
// setuid/setgid; when switching to a non-root user, KeepCaps must have been
// in force across setuid or the permitted set is already gone.
func (c *Caps) ApplyCaps() error {
	if c == nil {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := range data {
		shift := 32 * uint(i)
		data[i] = unix.CapUserData{
			Effective:   uint32(c.effective >> shift),
			Permitted:   uint32(c.permitted >> shift),
			Inheritable: uint32(c.inheritable >> shift),
		}
	}
	// The v3 ABI reads two consecutive structs (low and high 32 bits).
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset (effective %#x, permitted %#x, inheritable %#x): %w", c.effective, c.permitted, c.inheritable, err)
	}
	return c.applyAmbient()
}

func (c *Caps) applyAmbient() error {
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil {
		// Kernels before 4.3 have no ambient set; that only matters if
		// the configuration asks for one.
		if errors.Is(err, unix.EINVAL) && c.ambient == 0 {
			return nil
		}
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for nr := 0; nr <= c.lastCap; nr++ {
		if c.ambient&(1<<uint(nr)) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(nr), 0, 0); err != nil {
			return fmt.Errorf("raise ambient capability %d: %w", nr, err)
		}
	}
	return nil
}

// KeepCaps sets PR_SET_KEEPCAPS on the calling thread so that its permitted
// set survives a setuid from root to another user.
func KeepCaps() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 1): %w", err)
	}
	return nil
}

// ClearKeepCaps undoes KeepCaps once the uid change is done, so later uid
// changes by the container behave normally.
func ClearKeepCaps() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 0): %w", err)
	}
	return nil
}
