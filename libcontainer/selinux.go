package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
)

// applySELinux sets the exec label. On a host without SELinux the label is ignored, as crun
// does: the same config then runs on hosts with and without SELinux.
func applySELinux(proc *specs.Process) error {
	if proc.SelinuxLabel == "" || !selinux.GetEnabled() {
		return nil
	}
	if err := selinux.SetExecLabel(proc.SelinuxLabel); err != nil {
		return fmt.Errorf("process.selinuxLabel %s: %w", proc.SelinuxLabel, err)
	}
	return nil
}
