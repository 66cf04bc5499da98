package seccomp

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func uptr(v uint) *uint { return &v }

const atFdcwd = ^uintptr(99) // AT_FDCWD (-100) as a register value

func TestEffectErrnoAndAllow(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(38)},
			{Names: []string{"getppid"}, Action: specs.ActErrno}, // EPERM by default
		},
	}
	res := runSeccompChild(t, cfg, []probe{
		{Nr: unix.SYS_MKDIRAT, Args: [6]uintptr{atFdcwd, 0, 0o755}},
		{Nr: unix.SYS_GETPPID},
		{Nr: unix.SYS_GETPID},
		// Not in the profile: reaches the kernel, which faults on NULL.
		{Nr: unix.SYS_UNLINKAT, Args: [6]uintptr{atFdcwd, 0, 0}},
	}).mustSucceed(t, 4)
	want := []int{38, int(unix.EPERM), 0, int(unix.EFAULT)}
	for i, w := range want {
		if res[i].Errno != w {
			t.Errorf("probe %d: errno %d, want %d", i, res[i].Errno, w)
		}
	}
	if res[2].Ret == 0 {
		t.Errorf("getpid returned 0")
	}
}

func TestEffectFlags(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{flagTSYNC, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EROFS))}},
	}
	res := runSeccompChild(t, cfg, []probe{{Nr: unix.SYS_GETPPID}, {Nr: unix.SYS_GETPID}}).mustSucceed(t, 2)
	if res[0].Errno != int(unix.EROFS) || res[1].Errno != 0 {
		t.Fatalf("results %+v", res)
	}
}

func TestEffectKillProcess(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKillProcess}},
	}
	run := runSeccompChild(t, cfg, []probe{{Nr: unix.SYS_GETPID}, {Nr: unix.SYS_GETPPID}})
	if !run.status.Signaled() || run.status.Signal() != syscall.SIGSYS {
		t.Fatalf("child status %v, want killed by SIGSYS; stderr:\n%s", run.status, run.stderr)
	}
}

func TestEffectTrap(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActTrap}},
	}
	run := runSeccompChild(t, cfg, []probe{{Nr: unix.SYS_GETPPID}})
	// TRAP delivers a catchable SIGSYS; the Go runtime reports it and exits 2.
	if !run.status.Exited() || run.status.ExitStatus() != 2 || !strings.Contains(run.stderr, "SIGSYS") {
		t.Fatalf("child status %v, want exit 2 after SIGSYS; stderr:\n%s", run.status, run.stderr)
	}
}

func TestEffectOperators(t *testing.T) {
	eperm := int(unix.EPERM)
	cases := []struct {
		name  string
		args  []specs.LinuxSeccompArg
		probe [][2]uintptr // arg0, arg1
		want  []int        // errno per probe
	}{
		{"NE", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpNotEqual}},
			[][2]uintptr{{4}, {5}, {6}}, []int{eperm, 0, eperm}},
		{"LT", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpLessThan}},
			[][2]uintptr{{4}, {5}, {6}}, []int{eperm, 0, 0}},
		{"LE", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpLessEqual}},
			[][2]uintptr{{4}, {5}, {6}}, []int{eperm, eperm, 0}},
		{"EQ 64-bit", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpEqualTo}},
			[][2]uintptr{{4}, {5}, {1<<32 | 5}}, []int{0, eperm, 0}},
		{"GE", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpGreaterEqual}},
			[][2]uintptr{{4}, {5}, {6}}, []int{0, eperm, eperm}},
		{"GT", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpGreaterThan}},
			[][2]uintptr{{4}, {5}, {6}}, []int{0, 0, eperm}},
		{"MASKED_EQ", []specs.LinuxSeccompArg{{Index: 0, Value: 6, ValueTwo: 4, Op: specs.OpMaskedEqual}},
			[][2]uintptr{{4}, {5}, {6}}, []int{eperm, eperm, 0}},
		{"same index is OR", []specs.LinuxSeccompArg{{Index: 0, Value: 4, Op: specs.OpEqualTo}, {Index: 0, Value: 6, Op: specs.OpEqualTo}},
			[][2]uintptr{{4}, {5}, {6}}, []int{eperm, 0, eperm}},
		{"distinct indexes are AND", []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpEqualTo}, {Index: 1, Value: 7, Op: specs.OpEqualTo}},
			[][2]uintptr{{5, 7}, {5, 0}, {4, 7}}, []int{eperm, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// getppid ignores its arguments, but seccomp sees the registers.
			cfg := &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno, Args: tc.args}},
			}
			probes := make([]probe, len(tc.probe))
			for i, p := range tc.probe {
				probes[i] = probe{Nr: unix.SYS_GETPPID, Args: [6]uintptr{p[0], p[1]}}
			}
			res := runSeccompChild(t, cfg, probes).mustSucceed(t, len(probes))
			for i, w := range tc.want {
				if res[i].Errno != w {
					t.Errorf("getppid(%#x, %#x): errno %d, want %d", tc.probe[i][0], tc.probe[i][1], res[i].Errno, w)
				}
			}
		})
	}
}

func TestEffectPersonality(t *testing.T) {
	// The docker profile idiom: only the query form personality(0xffffffff)
	// is allowed.
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpNotEqual}}}},
	}
	res := runSeccompChild(t, cfg, []probe{
		{Nr: unix.SYS_PERSONALITY, Args: [6]uintptr{0xffffffff}},
		{Nr: unix.SYS_PERSONALITY, Args: [6]uintptr{0}},
		{Nr: unix.SYS_PERSONALITY, Args: [6]uintptr{0x0040000 /* ADDR_NO_RANDOMIZE */}},
	}).mustSucceed(t, 3)
	if res[0].Errno != 0 {
		t.Errorf("personality(0xffffffff): errno %d, want success", res[0].Errno)
	}
	for _, r := range res[1:] {
		if r.Errno != int(unix.EPERM) {
			t.Errorf("personality(change): errno %d, want EPERM", r.Errno)
		}
	}
}

// allowUpTo returns the native names of every syscall numbered 0..max.
func allowUpTo(t *testing.T, max int) []string {
	t.Helper()
	var names []string
	for nr := 0; nr <= max; nr++ {
		n, err := libseccomp.ScmpSyscall(nr).GetName()
		if err == nil {
			names = append(names, n)
		}
	}
	if len(names) < max/2 {
		t.Fatalf("libseccomp resolved only %d names below %d", len(names), max)
	}
	return names
}

func TestEffectENOSYSAboveProfile(t *testing.T) {
	nr := func(name string) uintptr {
		s, err := libseccomp.GetSyscallFromName(name)
		if err != nil || s < 0 {
			t.Skipf("%s unknown on this architecture: %v", name, err)
		}
		return uintptr(s)
	}
	rseq, pidfdSend, ioURing, clone3 := nr("rseq"), nr("pidfd_send_signal"), nr("io_uring_setup"), nr("clone3")
	if !(rseq+1 < pidfdSend && pidfdSend < ioURing && ioURing < clone3) {
		t.Skip("syscall numbering on this architecture does not leave a gap below pidfd_send_signal")
	}
	allowed := allowUpTo(t, int(rseq))
	// Unnamed and below the profile maximum. (Not rseq+1: x86-64 assigned
	// 335 to uretprobe, which raises SIGILL when called directly.)
	gap := pidfdSend - 1
	probes := []probe{
		{Nr: unix.SYS_GETPID},
		{Nr: gap},
		{Nr: pidfdSend, Args: [6]uintptr{^uintptr(0)}},
		{Nr: ioURing},
		{Nr: clone3},
	}
	cases := []struct {
		name string
		def  specs.LinuxSeccompAction
		want []int
	}{
		// Above pidfd_send_signal (the highest named): ENOSYS, not EPERM.
		{"default ERRNO", specs.ActErrno, []int{0, int(unix.EPERM), int(unix.EACCES), int(unix.ENOSYS), int(unix.ENOSYS)}},
		// Without the prologue the process would be killed by io_uring_setup.
		{"default KILL_PROCESS", specs.ActKillProcess, nil},
		// ALLOW: no prologue; the kernel sees the real calls (EFAULT/EINVAL).
		{"default ALLOW", specs.ActAllow, []int{0, int(unix.ENOSYS), int(unix.EACCES), int(unix.EFAULT), int(unix.EINVAL)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &specs.LinuxSeccomp{
				DefaultAction: tc.def,
				Syscalls: []specs.LinuxSyscall{
					{Names: allowed, Action: specs.ActAllow},
					{Names: []string{"pidfd_send_signal"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EACCES))},
				},
			}
			ps := probes
			want := tc.want
			if tc.def == specs.ActKillProcess {
				// The unnamed gap syscall would (correctly) kill; skip it.
				ps = []probe{probes[0], probes[2], probes[3], probes[4]}
				want = []int{0, int(unix.EACCES), int(unix.ENOSYS), int(unix.ENOSYS)}
			}
			res := runSeccompChild(t, cfg, ps).mustSucceed(t, len(ps))
			for i, w := range want {
				if res[i].Errno != w {
					t.Errorf("syscall %d: errno %d (%v), want %d (%v)", ps[i].Nr, res[i].Errno, unix.Errno(res[i].Errno), w, unix.Errno(w))
				}
			}
		})
	}
}

func TestEffectKillProcessBelowMaximum(t *testing.T) {
	// Complement of the ENOSYS test: an unnamed syscall below the profile's
	// highest number still gets the default action.
	rseq, _ := libseccomp.GetSyscallFromName("rseq")
	pidfdSend, _ := libseccomp.GetSyscallFromName("pidfd_send_signal")
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActKillProcess,
		Syscalls: []specs.LinuxSyscall{
			{Names: allowUpTo(t, int(rseq)), Action: specs.ActAllow},
			{Names: []string{"pidfd_send_signal"}, Action: specs.ActErrno},
		},
	}
	run := runSeccompChild(t, cfg, []probe{{Nr: uintptr(pidfdSend) - 1}})
	if !run.status.Signaled() || run.status.Signal() != syscall.SIGSYS {
		t.Fatalf("child status %v, want SIGSYS; stderr:\n%s", run.status, run.stderr)
	}
}

func TestEffectNotify(t *testing.T) {
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	cfg := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     sockPath,
		ListenerMetadata: "agent-metadata",
		// TSYNC with a listener needs TSYNC_ESRCH, added by Build.
		Flags:    []specs.LinuxSeccompFlag{flagTSYNC, specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActNotify}},
	}
	type agentResult struct {
		state   specs.ContainerProcessState
		syscall []libseccomp.ScmpSyscall
		pids    []uint32
		err     error
	}
	done := make(chan agentResult, 1)
	go func() {
		var ar agentResult
		defer func() { done <- ar }()
		ln.SetDeadline(time.Now().Add(30 * time.Second))
		conn, err := ln.AcceptUnix()
		if err != nil {
			ar.err = err
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			ar.err = err
			return
		}
		if err := json.Unmarshal(buf[:n], &ar.state); err != nil {
			ar.err = err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			ar.err = err
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			ar.err = err
			return
		}
		fd := libseccomp.ScmpFd(fds[0])
		defer unix.Close(fds[0])
		// First mkdirat: fail with EXDEV; second: pretend success with 42.
		for _, resp := range []libseccomp.ScmpNotifResp{{Error: int32(unix.EXDEV)}, {Val: 42}} {
			req, err := libseccomp.NotifReceive(fd)
			if err != nil {
				ar.err = err
				return
			}
			ar.syscall = append(ar.syscall, req.Data.Syscall)
			ar.pids = append(ar.pids, req.Pid)
			resp.ID = req.ID
			if err := libseccomp.NotifRespond(fd, &resp); err != nil {
				ar.err = err
				return
			}
		}
	}()

	run := runSeccompChild(t, cfg, []probe{
		{Nr: unix.SYS_MKDIRAT, Args: [6]uintptr{atFdcwd, 0, 0o755}},
		{Nr: unix.SYS_MKDIRAT, Args: [6]uintptr{atFdcwd, 0, 0o755}},
		{Nr: unix.SYS_GETPID},
	})
	ar := <-done
	if ar.err != nil {
		t.Fatalf("agent: %v (child status %v, stderr %s)", ar.err, run.status, run.stderr)
	}
	res := run.mustSucceed(t, 3)
	if res[0].Errno != int(unix.EXDEV) {
		t.Errorf("first mkdirat: errno %d, want EXDEV", res[0].Errno)
	}
	if res[1].Errno != 0 || res[1].Ret != 42 {
		t.Errorf("second mkdirat: ret %d errno %d, want 42", res[1].Ret, res[1].Errno)
	}
	if res[2].Errno != 0 || int(res[2].Ret) != run.pid {
		t.Errorf("getpid: ret %d errno %d, want %d", res[2].Ret, res[2].Errno, run.pid)
	}
	st := ar.state
	if st.Version != specs.Version || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
		st.Pid != run.pid || st.Metadata != "agent-metadata" || st.State.ID != "test" {
		t.Errorf("container process state = %+v", st)
	}
	for i := range ar.syscall {
		if int(ar.syscall[i]) != unix.SYS_MKDIRAT || int(ar.pids[i]) != run.pid {
			t.Errorf("notification %d: syscall %d pid %d, want %d from %d", i, ar.syscall[i], ar.pids[i], unix.SYS_MKDIRAT, run.pid)
		}
	}
}

func TestSendNotifyFdErrors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := SendNotifyFd(filepath.Join(t.TempDir(), "missing.sock"), []byte("{}"), int(r.Fd())); err == nil {
		t.Error("SendNotifyFd to a missing socket succeeded")
	}
	if err := SendNotifyFd("/nonexistent", nil, int(r.Fd())); err == nil {
		t.Error("SendNotifyFd with an empty state succeeded")
	}
}
