package libcontainer

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/seccomp"
)

// sendSeccompListener passes the seccomp notify fd to the agent at linux.seccomp.listenerPath
// with the ContainerProcessState payload the runtime-spec describes.
func sendSeccompListener(spec *specs.Spec, state specs.State, pid int, fd *os.File) error {
	sc := spec.Linux.Seccomp
	state.Pid = pid
	payload, err := seccomp.NotifyState(state, pid, sc.ListenerMetadata)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	if err := seccomp.SendNotifyFd(sc.ListenerPath, payload, int(fd.Fd())); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %s: %w", sc.ListenerPath, err)
	}
	return nil
}
