// Package selinux applies the SELinux labels of a container's process. On a host without
// SELinux every label is ignored rather than an error (crun's behaviour; runc errors), so one
// config runs on hosts with and without SELinux. Mount labels are applied by the rootfs code as
// a context= mount option.
package selinux

import (
	"fmt"

	goselinux "github.com/opencontainers/selinux/go-selinux"
)

// Enabled reports whether the host runs SELinux. The answer is computed once per process
// and depends on finding selinuxfs in the mount table: runo init must ask (see Probe) while
// it still sees the host's mounts, not after pivot_root. Callers ask only when a label is
// set, so a spec without labels never pays for the mount-table scan.
func Enabled() bool { return goselinux.GetEnabled() }

// Probe settles Enabled while the host's mounts are still visible.
func Probe() { goselinux.GetEnabled() }

// SetExecLabel makes label the context of the process's next execve.
func SetExecLabel(label string) error {
	if label == "" || !Enabled() {
		return nil
	}
	if err := goselinux.SetExecLabel(label); err != nil {
		return fmt.Errorf("process.selinuxLabel %s: %w", label, err)
	}
	return nil
}

// SetKeyLabel labels the session keyring that the process creates next, so the container's
// keyring carries the container's label.
func SetKeyLabel(label string) error {
	if label == "" || !Enabled() {
		return nil
	}
	if err := goselinux.SetKeyLabel(label); err != nil {
		return fmt.Errorf("process.selinuxLabel %s (keyring): %w", label, err)
	}
	return nil
}
