package integration

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestSeccompNotifyAgent: a SCMP_ACT_NOTIFY rule hands the listener fd to the agent at
// linux.seccomp.listenerPath with the ContainerProcessState payload (runtime-spec
// config-linux.md, "seccomp notify"); the agent answers the container's mkdir with EXDEV,
// and the container sees exactly that errno.
func TestSeccompNotifyAgent(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type result struct {
		state    specs.ContainerProcessState
		syscalls int
		err      error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() { done <- res }()
		ln.SetDeadline(time.Now().Add(30 * time.Second))
		conn, err := ln.AcceptUnix()
		if err != nil {
			res.err = err
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			res.err = err
			return
		}
		if err := json.Unmarshal(buf[:n], &res.state); err != nil {
			res.err = err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			res.err = err
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			res.err = err
			return
		}
		defer unix.Close(fds[0])
		// Answer until the container's filter goes away with its last task.
		for {
			req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fds[0]))
			if err != nil {
				return
			}
			res.syscalls++
			resp := libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(unix.EXDEV)}
			if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fds[0]), &resp); err != nil {
				return
			}
		}
	}()

	b := testbundle.New(t, testbundle.WithArgs(sh("mkdir /tmp/notified; echo mkdir-status=$?")...))
	b.Mutate(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction:    specs.ActAllow,
			ListenerPath:     sock,
			ListenerMetadata: "agent-metadata",
			Architectures:    []specs.Arch{specs.ArchX86_64},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify},
			},
		}
	})
	r := b.Run()
	res := <-done
	if res.err != nil {
		t.Fatalf("agent: %v\nrun stdout: %s\nstderr: %s", res.err, r.Stdout, r.Stderr)
	}
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "mkdir-status=1") || !strings.Contains(r.Stderr+r.Stdout, "cross-device") {
		t.Errorf("container did not see the agent's EXDEV: exit %d\nstdout: %s\nstderr: %s", r.ExitCode, r.Stdout, r.Stderr)
	}
	if res.syscalls == 0 {
		t.Errorf("agent received no notification")
	}
	st := res.state
	if len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || st.Metadata != "agent-metadata" || st.State.ID != b.ID || st.Pid <= 0 {
		t.Errorf("agent payload %+v: want fds [%s], metadata, the container's id and pid", st, specs.SeccompFdName)
	}
}
