package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestExecJoinsNamespacesAndCgroup: an exec'd process is in every namespace
// and every cgroup of the container's init, seen both from inside (its own
// /proc/self/ns) and from the host (/proc/<pid>/ns, /proc/<pid>/cgroup).
func TestExecJoinsNamespacesAndCgroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*specs.Spec)
	}{
		{"default spec", nil},
		{"user namespace", userMapping},
		{"cgroup namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}},
		// runc before 1.2 has no time namespace support.
		{"time namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 86400}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, initPid := startSleeper(t, tc.mutate)
			initNS := procNamespaces(t, initPid)

			r := execIn(b, nil, sh(nsScript)...)
			mustExit(t, r, 0, "exec namespace listing")
			inside := parseNS(t, r.Stdout)
			for _, n := range nsNames {
				if inside[n] != initNS[n] {
					t.Errorf("foreground exec: %s namespace %s, init's is %s", n, inside[n], initNS[n])
				}
			}

			pid := execDetached(t, b, nil, sleeper...)
			got := procNamespaces(t, pid)
			for n, want := range initNS {
				if got[n] != want {
					t.Errorf("detached exec (pid %d): /proc/pid/ns/%s = %s, init's is %s", pid, n, got[n], want)
				}
			}
			if cg, want := procFile(t, pid, "cgroup"), procFile(t, initPid, "cgroup"); cg != want {
				t.Errorf("exec'd process cgroups:\n%s\ninit's:\n%s", cg, want)
			}
			if got, want := procFile(t, pid, "uid_map"), procFile(t, initPid, "uid_map"); got != want {
				t.Errorf("uid_map %q, init's %q", got, want)
			}
		})
	}
}

// mkdirENOSYS is a seccomp profile under which mkdir(2)/mkdirat(2) fail with
// errno 38 (ENOSYS) and everything else is allowed.
func mkdirENOSYS(s *specs.Spec) {
	errno := uint(38)
	s.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &errno,
		}},
	}
}

// TestExecSecurityContext: by default an exec'd process gets the container's
// capabilities, no_new_privs, rlimits and seccomp filter; the flags add to
// them. runc 1.1.5 fails the rlimit check (its exec'd process gets soft
// RLIMIT_NOFILE = hard, the limit Go 1.19+ raises itself to): a runc bug.
func TestExecSecurityContext(t *testing.T) {
	t.Parallel()
	const script = `grep -E '^(CapBnd|CapEff|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status; ` +
		`echo nofile $(ulimit -n) $(ulimit -Hn); mkdir /tmp/x 2>&1; echo mkdir=$?`
	base := func(s *specs.Spec) {
		mkdirENOSYS(s)
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 777, Hard: 888}}
	}
	defCaps := capMask(capKill, capNetBindService, capAuditWrite)
	tests := []struct {
		name   string
		mutate func(*specs.Spec)
		flags  []string
		want   map[string]string
	}{
		{
			name: "container defaults", mutate: base,
			want: map[string]string{"CapBnd": defCaps, "CapEff": defCaps, "CapPrm": defCaps, "NoNewPrivs": "1", "Seccomp": "2"},
		},
		{
			name: "cap flag adds CAP_SYS_ADMIN", mutate: base, flags: []string{"-c", "CAP_SYS_ADMIN"},
			want: map[string]string{
				"CapBnd":     capMask(capKill, capNetBindService, capAuditWrite, capSysAdmin),
				"CapEff":     capMask(capKill, capNetBindService, capAuditWrite, capSysAdmin),
				"NoNewPrivs": "1", "Seccomp": "2",
			},
		},
		{
			name:   "container without no_new_privs",
			mutate: func(s *specs.Spec) { base(s); s.Process.NoNewPrivileges = false },
			want:   map[string]string{"CapBnd": defCaps, "NoNewPrivs": "0", "Seccomp": "2"},
		},
		{
			name:   "no-new-privs flag",
			mutate: func(s *specs.Spec) { base(s); s.Process.NoNewPrivileges = false },
			flags:  []string{"--no-new-privs"},
			want:   map[string]string{"CapBnd": defCaps, "NoNewPrivs": "1", "Seccomp": "2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, initPid := startSleeper(t, tc.mutate)
			r := execIn(b, tc.flags, sh(script)...)
			mustExit(t, r, 0, "exec")
			got := statusFields(r.Stdout)
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if len(tc.flags) == 0 {
				// With no flags the process must match init exactly.
				initStatus := statusFields(procFile(t, initPid, "status"))
				for _, k := range []string{"CapBnd", "CapEff", "CapPrm", "NoNewPrivs", "Seccomp"} {
					if got[k] != initStatus[k] {
						t.Errorf("%s = %q, init's is %q", k, got[k], initStatus[k])
					}
				}
			}
			if !strings.Contains(r.Stdout, "nofile 777 888\n") {
				t.Errorf("RLIMIT_NOFILE not the container's 777/888:\n%s", r.Stdout)
			}
			if !strings.Contains(r.Stdout, "Function not implemented") || !strings.Contains(r.Stdout, "mkdir=1") {
				t.Errorf("mkdir did not fail with ENOSYS from the container's seccomp profile:\n%s", r.Stdout)
			}
		})
	}
}

func TestExecExitStatus(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"exit 0", sh("exit 0"), 0, nil},
		{"exit 7", sh("exit 7"), 7, nil},
		{"killed by SIGKILL", sh("kill -KILL $$"), 128 + 9, nil},
		{"killed by SIGTERM", sh("kill -TERM $$"), 128 + 15, nil},
		{"missing binary", []string{"no-such-binary"}, 255, []string{"executable file not found"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := execIn(b, nil, tc.args...)
			mustExit(t, r, tc.code, fmt.Sprintf("exec %q", tc.args))
			assertMentions(t, r.Stderr, tc.stderr...)
		})
	}
}

// TestExecForwardsSignals signals the runtime process of a foreground exec.
func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	b, initPid := startSleeper(t, nil)
	for _, tc := range relayedSignals {
		t.Run(tc.name, func(t *testing.T) {
			ex := b.Command(execArgs(b, nil, "sleep", "1001")...)
			ex.Start()
			waitForSleep(t, b, initPid)
			if err := ex.Process.Signal(tc.sig); err != nil {
				t.Fatalf("signal runtime: %v", err)
			}
			r := ex.Wait()
			if want := 128 + int(tc.sig); r.ExitCode != want {
				t.Fatalf("exec exit %d, want %d (%s forwarded)\nstderr: %s", r.ExitCode, want, tc.name, r.Stderr)
			}
		})
	}
}

// waitForSleep waits until the container runs a process besides its init and that process
// is a sleep (it was runo init until its execve).
func waitForSleep(t *testing.T, b *testbundle.Bundle, initPid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := b.Runo("ps", "--format", "json", b.ID)
		var pids []int
		if r.ExitCode == 0 && json.Unmarshal([]byte(r.Stdout), &pids) == nil {
			for _, pid := range pids {
				comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				if pid != initPid && err == nil && strings.TrimSpace(string(comm)) == "sleep" {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the exec'd sleep never ran")
}

func TestExecNotRunning(t *testing.T) {
	t.Parallel()
	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		b := stoppedContainer(t)
		r := execIn(b, nil, "echo", "must-not-run")
		mustExit(t, r, 255, "exec into a stopped container")
		assertMentions(t, r.Stderr, "stopped")
		if strings.Contains(r.Stdout, "must-not-run") {
			t.Errorf("process ran in a stopped container")
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		root := testbundle.RootDir(t)
		_, stderr, code := testbundle.Runo(t, "--root", root, "exec", "no-such-container", "true")
		if code != 255 {
			t.Errorf("exec into a missing container: exit %d, want 255", code)
		}
		assertMentions(t, stderr, "does not exist")
	})
}

// TestExecPaused: exec into a paused container is refused unless
// --ignore-paused; with it the process joins the frozen cgroup, so it (and
// the runtime, as with runc 1.1) only completes once the container resumes.
func TestExecPaused(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("freezer", "/") == "" {
		t.Skip("cgroup v1 freezer not mounted on this host")
	}
	b, _ := startSleeper(t, nil)
	mustExit(t, b.Runo("pause", b.ID), 0, "pause")
	r := execIn(b, nil, "echo", "must-not-run")
	mustExit(t, r, 255, "exec into a paused container")
	assertMentions(t, r.Stderr, "paused")
	if r.Stdout != "" {
		t.Errorf("process ran in a paused container: %q", r.Stdout)
	}
	b.MustStatus(statePaused)

	c := b.Command(execArgs(b, []string{"--ignore-paused"}, "echo", "ran")...)
	c.Start()
	done := make(chan testbundle.Result, 1)
	go func() { done <- c.Wait() }()
	select {
	case r := <-done:
		t.Fatalf("exec --ignore-paused finished while the container was frozen: exit %d %q %q", r.ExitCode, r.Stdout, r.Stderr)
	case <-time.After(500 * time.Millisecond):
	}
	mustExit(t, b.Runo("resume", b.ID), 0, "resume")
	select {
	case r := <-done:
		mustExit(t, r, 0, "exec --ignore-paused after resume")
		if r.Stdout != "ran\n" {
			t.Errorf("stdout = %q, want %q", r.Stdout, "ran\n")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("exec --ignore-paused did not finish after resume")
	}
}

func TestExecDetach(t *testing.T) {
	t.Parallel()
	b, initPid := startSleeper(t, nil)
	start := time.Now()
	pid := execDetached(t, b, nil, sleeper...)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("exec -d took %v", d)
	}
	if !pidAlive(pid) {
		t.Fatalf("detached process %d is not running", pid)
	}
	if comm := strings.TrimSpace(procFile(t, pid, "comm")); comm != "sleep" {
		t.Errorf("pid file names %d (%s), not the exec'd sleep", pid, comm)
	}
	pids := psJSON(t, b)
	if !containsInt(pids, pid) || !containsInt(pids, initPid) {
		t.Errorf("ps -f json = %v, want init %d and exec'd %d", pids, initPid, pid)
	}
}

// TestExecUser: -u, -g, -e and --cwd change the process; the container's
// environment is inherited.
func TestExecUser(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	const script = `echo uid=$(id -u) gid=$(id -g) $(grep ^Groups: /proc/self/status) cwd=$(pwd) term=$TERM foo=$FOO path=$PATH`
	defPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"defaults", nil, "uid=0 gid=0 Groups: cwd=/ term=xterm foo= path=" + defPath},
		{"uid and gid", []string{"-u", "1000:1000"}, "uid=1000 gid=1000 Groups: cwd=/ term=xterm foo= path=" + defPath},
		{"uid only keeps gid", []string{"--user", "1000"}, "uid=1000 gid=0 Groups: cwd=/ term=xterm foo= path=" + defPath},
		{"additional gids", []string{"-u", "1000:1000", "-g", "10", "-g", "20"}, "uid=1000 gid=1000 Groups: 10 20 cwd=/ term=xterm foo= path=" + defPath},
		{"env", []string{"-e", "FOO=bar", "-e", "PATH=/bin"}, "uid=0 gid=0 Groups: cwd=/ term=xterm foo=bar path=/bin"},
		{"cwd", []string{"--cwd", "/tmp"}, "uid=0 gid=0 Groups: cwd=/tmp term=xterm foo= path=" + defPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := execIn(b, tc.flags, sh(script)...)
			mustExit(t, r, 0, fmt.Sprintf("exec %q", tc.flags))
			if got := strings.Join(strings.Fields(r.Stdout), " "); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestExecBadUser: a malformed --user never runs the process (as any user).
// runc 1.1 runs "4294967296" as uid 0 (it wraps); runo rejects it on purpose.
func TestExecBadUser(t *testing.T) {
	t.Parallel()
	b, initPid := startSleeper(t, nil)
	for _, u := range []string{"1000x", "-1", "4294967296", "4294967295", "root", "1000:x", "1000:-1", " 1000", "0x10"} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			r := execIn(b, []string{"--user=" + u}, "id", "-u")
			if r.ExitCode != 255 {
				t.Errorf("exec --user=%q: exit %d, want 255 (stdout %q, stderr %q)", u, r.ExitCode, r.Stdout, r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("exec --user=%q ran the process: %q", u, r.Stdout)
			}
		})
	}
	t.Cleanup(func() {
		if pids := psJSON(t, b); len(pids) != 1 || pids[0] != initPid {
			t.Errorf("processes left in the container after rejected execs: %v (init %d)", pids, initPid)
		}
	})
}

// TestExecProcessJSON: -p takes the whole process from a JSON file in the
// shape containerd's shim writes, ignoring the container's process.
func TestExecProcessJSON(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	proc := specs.Process{
		User: specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5}},
		Args: sh(`echo uid=$(id -u) gid=$(id -g) cwd=$(pwd) foo=$FOO term=$TERM; ` +
			`grep -E '^(Groups|CapBnd|CapEff|CapAmb|NoNewPrivs):' /proc/self/status; ulimit -n`),
		Env: []string{"PATH=/bin:/usr/bin", "FOO=from-json"},
		Cwd: "/tmp",
		// A non-root process keeps effective capabilities across execve
		// only through the ambient set.
		Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"},
			Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 321, Hard: 321}},
		NoNewPrivileges: true,
	}
	data, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := execIn(b, []string{"-p", path})
	mustExit(t, r, 0, "exec -p")
	lines := strings.SplitN(r.Stdout, "\n", 2)
	if lines[0] != "uid=1000 gid=1001 cwd=/tmp foo=from-json term=" {
		t.Errorf("first line = %q", lines[0])
	}
	got := statusFields(r.Stdout)
	want := map[string]string{"Groups": "5", "CapBnd": capMask(capKill), "CapEff": capMask(capKill), "CapAmb": capMask(capKill), "NoNewPrivs": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.HasSuffix(r.Stdout, "\n321\n") {
		t.Errorf("RLIMIT_NOFILE from process.json not applied:\n%s", r.Stdout)
	}
}

func TestExecPreserveFds(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	c := b.Command(execArgs(b, []string{"--preserve-fds", "1"},
		sh("cat /proc/self/fd/3; ls /proc/self/fd/4 2>/dev/null && echo LEAKED; true")...)...)
	c.ExtraFiles = []*os.File{tempWithContent(t, "fd-three\n"), tempWithContent(t, "fd-four\n")}
	r := c.Run()
	mustExit(t, r, 0, "exec --preserve-fds 1")
	if r.Stdout != "fd-three\n" {
		t.Errorf("stdout = %q, want fd 3 only", r.Stdout)
	}
}

// TestExecConsoleSocket: -t with --console-socket hands the pty master to
// the socket and the process's stdio is the pty slave.
func TestExecConsoleSocket(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	recv := newConsoleReceiver(t)
	r := execIn(b, []string{"-d", "-t", "--console-socket", recv.path},
		sh("tty; test -t 0 && test -t 1 && test -t 2 && echo all-ttys; sleep 1000")...)
	mustExit(t, r, 0, "exec -d -t --console-socket")
	out := readUntil(recv.master(t), "all-ttys", 20*time.Second)
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "all-ttys") {
		t.Errorf("terminal output %q lacks a pts name and all-ttys", out)
	}
}

// openPty returns a pty master and its slave.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestExecForegroundTTY: `exec -t` run from a terminal gives the process a
// pty of its own, relays its output to the caller's terminal, passes on the
// terminal size and returns the process's exit status.
func TestExecForegroundTTY(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	master, slave := openPty(t)
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 31, Col: 97}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	c := b.Command(execArgs(b, []string{"-t"},
		sh("tty; test -t 0 && test -t 1 && echo all-ttys; stty size; echo done-$((6*7)); exit 3")...)...)
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	outc := make(chan string, 1)
	go func() { outc <- readUntil(master, "done-42", 20*time.Second) }()
	r := c.Run()
	slave.Close()
	mustExit(t, r, 3, "exec -t")
	out := <-outc
	for _, want := range []string{"/dev/pts/", "all-ttys", "31 97", "done-42"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
}
