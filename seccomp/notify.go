package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NotifyState builds the container process state sent to the seccomp agent
// at listenerPath: the fd list names the one SCM_RIGHTS fd "seccompFd", pid
// is the container process as seen by the runtime and metadata is the
// configuration's listenerMetadata.
func NotifyState(state specs.State, pid int, metadata string) ([]byte, error) {
	b, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return nil, fmt.Errorf("encode container process state: %w", err)
	}
	return b, nil
}

// SendNotifyFd connects to the agent's AF_UNIX stream socket at listenerPath
// and sends state with fd attached as SCM_RIGHTS, then closes the
// connection: one state per connection, fds only with the first sendmsg,
// as the runtime-spec requires. It uses raw syscalls so that it is safe to
// call from the container init process.
func SendNotifyFd(listenerPath string, state []byte, fd int) error {
	if len(state) == 0 {
		return fmt.Errorf("send seccomp fd to %s: empty state", listenerPath)
	}
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("send seccomp fd to %s: socket: %w", listenerPath, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath}); err != nil {
		return fmt.Errorf("send seccomp fd: connect to %s: %w", listenerPath, err)
	}
	rights := unix.UnixRights(fd)
	sent := 0
	for sent < len(state) {
		var n int
		n, err = unix.SendmsgN(sock, state[sent:], rights, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("send seccomp fd to %s: sendmsg: %w", listenerPath, err)
		}
		sent += n
		rights = nil
	}
	return nil
}
