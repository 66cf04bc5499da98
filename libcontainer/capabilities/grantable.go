package capabilities

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// DropUngrantable removes from every set the capabilities that the calling process cannot
// grant because they are not in its own bounding set (a runtime started in a restricted
// environment, such as this one without CAP_SYS_RESOURCE). runtime-spec v1.3.0: such values
// MUST be logged as a warning and the runtime SHOULD NOT fail; the returned strings are those
// warnings. Unknown capability names are still rejected by New: a misspelt name is a config
// error, not a restricted environment.
func (c *Caps) DropUngrantable() ([]string, error) {
	if c == nil {
		return nil, nil
	}
	var missing uint64
	c.inBounding, c.inBoundingKnown = 0, false
	for nr := 0; nr <= c.lastCap; nr++ {
		present, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(nr), 0, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("read bounding capability %d: %w", nr, err)
		}
		if present == 0 {
			missing |= 1 << uint(nr)
		} else {
			c.inBounding |= 1 << uint(nr)
		}
	}
	c.inBoundingKnown = true
	asked := c.bounding | c.effective | c.permitted | c.inheritable | c.ambient
	if asked&missing == 0 {
		return nil, nil
	}
	for _, m := range []*uint64{&c.bounding, &c.effective, &c.permitted, &c.inheritable, &c.ambient} {
		*m &^= missing
	}
	return []string{fmt.Sprintf("capabilities: %s cannot be granted (not in runo's own bounding set); ignored",
		strings.Join(maskNames(asked&missing), ", "))}, nil
}
