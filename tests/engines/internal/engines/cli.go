// Package engines drives real container engines (podman, containerd's ctr,
// docker, containerd's CRI through crictl) with the OCI runtime under test
// given to them by path only.
package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// sleeper runs until SIGTERM and then exits 0, so `stop` is quick and its
// exit status proves the signal was delivered to the container's init.
var sleeper = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"}

// cli holds what podman and docker share: their command lines are close
// enough that one scenario set serves both.
type cli struct {
	kind    string // "podman" or "docker"
	cmd     harness.Cmd
	image   string
	runArgs []string // added to every run/create: cgroup parent, pull policy
}

func (c *cli) x(t *harness.T, args ...string) harness.Result {
	return c.cmd.With(t.Log).Run(t.Ctx, args...)
}

// run is `run --rm <common> extra... image argv...`.
func (c *cli) run(t *harness.T, extra []string, argv ...string) harness.Result {
	args := append([]string{"run", "--rm"}, c.runArgs...)
	args = append(args, extra...)
	args = append(args, c.image)
	return c.x(t, append(args, argv...)...)
}

// detach starts a named sleeper (or argv) in the background.
func (c *cli) detach(t *harness.T, name string, extra []string, argv ...string) error {
	if len(argv) == 0 {
		argv = sleeper
	}
	args := append([]string{"run", "-d", "--name", name}, c.runArgs...)
	args = append(args, extra...)
	args = append(args, c.image)
	return c.x(t, append(args, argv...)...).Check()
}

func (c *cli) inspect(t *harness.T, name, format string) (string, error) {
	r := c.x(t, "inspect", "--format", format, name)
	if err := r.Check(); err != nil {
		return "", err
	}
	return r.Out(), nil
}

// cgroupRead prints the value of a v1 file, or of its v2 equivalent, so the
// same scenario holds on hybrid and unified hosts.
func cgroupRead(v1, v2 string) string {
	return fmt.Sprintf("cat /sys/fs/cgroup/%s 2>/dev/null || cat /sys/fs/cgroup/%s", v1, v2)
}

// scenarios is the shared set; has reports the engine-specific features.
func (c *cli) scenarios(has func(feature string) bool) []harness.Scenario {
	all := []harness.Scenario{
		harness.S("run-print", c.runPrint),
		harness.S("exit-code", c.exitCode),
		harness.S("detached-exec-stop-rm", c.detachedExecStopRm),
		harness.S("exec-user-env-workdir", c.execUserEnvWorkdir),
		harness.S("kill-signal", c.killSignal),
		harness.S("logs", c.logs),
		harness.S("tty-run", c.ttyRun),
		harness.S("tty-exec", c.ttyExec),
		harness.S("network-none", c.networkNone),
		harness.S("network-container", c.networkContainer),
		harness.S("pod", c.pod),
		harness.S("cgroup-parent", c.cgroupParent),
		harness.S("limits", c.limits),
		harness.S("cap-drop", c.capDrop),
		harness.S("read-only", c.readOnly),
		harness.S("user", c.user),
		harness.S("env", c.env),
		harness.S("workdir-hostname", c.workdirHostname),
		harness.S("bind-tmpfs", c.bindTmpfs),
		harness.S("ulimit", c.ulimit),
		harness.S("sysctl", c.sysctl),
		harness.S("device", c.device),
		harness.S("seccomp-default", c.seccomp),
		harness.S("pause-unpause", c.pauseUnpause),
		harness.S("update", c.update),
		harness.S("top", c.top),
		harness.S("stats", c.stats),
		harness.S("restart", c.restart),
		harness.S("init", c.init),
	}
	var out []harness.Scenario
	for _, s := range all {
		if has(s.Name) {
			out = append(out, s)
		}
	}
	return out
}

func (c *cli) runPrint(t *harness.T) error {
	return harness.Expect(c.run(t, nil, "echo", "hello from runo"), "hello from runo")
}

func (c *cli) exitCode(t *harness.T) error {
	r := c.run(t, nil, "sh", "-c", "exit 42")
	if r.Err != nil || r.Code != 42 {
		return fmt.Errorf("%s: exit %d (err %v), want 42; stderr: %s", r.Line, r.Code, r.Err, r.Stderr)
	}
	return nil
}

func (c *cli) detachedExecStopRm(t *harness.T) error {
	if err := c.detach(t, "des", nil); err != nil {
		return err
	}
	if err := harness.Expect(c.x(t, "exec", "des", "echo", "inside"), "inside"); err != nil {
		return err
	}
	if err := c.x(t, "stop", "-t", "10", "des").Check(); err != nil {
		return err
	}
	// Exit 0 means SIGTERM reached the trap; a SIGKILL after the grace
	// period would give 137.
	code, err := c.inspect(t, "des", "{{.State.ExitCode}}")
	if err != nil {
		return err
	}
	if code != "0" {
		return fmt.Errorf("exit code after stop %s, want 0 (SIGTERM not delivered?)", code)
	}
	if err := c.x(t, "rm", "des").Check(); err != nil {
		return err
	}
	if r := c.x(t, "inspect", "des"); r.Code == 0 {
		return fmt.Errorf("container still exists after rm")
	}
	return nil
}

func (c *cli) execUserEnvWorkdir(t *harness.T) error {
	if err := c.detach(t, "exu", nil); err != nil {
		return err
	}
	r := c.x(t, "exec", "--user", "1000:1000", "--env", "FOO=bar", "--workdir", "/tmp", "exu",
		"sh", "-c", `echo "$(id -u):$(id -g):$FOO:$(pwd)"`)
	return harness.Expect(r, "1000:1000:bar:/tmp")
}

func (c *cli) killSignal(t *harness.T) error {
	if err := c.detach(t, "kil", nil, "sh", "-c", "trap 'exit 7' USR1; sleep 600 & wait"); err != nil {
		return err
	}
	if err := c.x(t, "kill", "--signal", "USR1", "kil").Check(); err != nil {
		return err
	}
	return harness.Expect(c.x(t, "wait", "kil"), "7")
}

func (c *cli) logs(t *harness.T) error {
	if err := c.detach(t, "lg", nil, "sh", "-c", "echo to-stdout; echo to-stderr >&2; sleep 600"); err != nil {
		return err
	}
	var r harness.Result
	for i := 0; i < 30; i++ {
		r = c.x(t, "logs", "lg")
		if strings.Contains(r.Stdout+r.Stderr, "to-stderr") {
			break
		}
	}
	if err := r.Check(); err != nil {
		return err
	}
	if !strings.Contains(r.Stdout, "to-stdout") || !strings.Contains(r.Stderr, "to-stderr") {
		return fmt.Errorf("logs: stdout %q stderr %q, want to-stdout / to-stderr on each", r.Stdout, r.Stderr)
	}
	return nil
}

func (c *cli) ttyRun(t *harness.T) error {
	r := c.run(t, []string{"-t"}, "sh", "-c", "test -t 0 && test -t 1 && tty")
	return harness.ExpectContains(r, "/dev/pts/")
}

func (c *cli) ttyExec(t *harness.T) error {
	if err := c.detach(t, "tte", nil); err != nil {
		return err
	}
	return harness.ExpectContains(c.x(t, "exec", "-t", "tte", "sh", "-c", "test -t 1 && tty"), "/dev/pts/")
}

func (c *cli) networkNone(t *harness.T) error {
	return harness.Expect(c.run(t, []string{"--network", "none"}, "ls", "/sys/class/net"), "lo")
}

func (c *cli) networkContainer(t *harness.T) error {
	if err := c.detach(t, "netA", []string{"--network", "none"}); err != nil {
		return err
	}
	a := c.x(t, "exec", "netA", "readlink", "/proc/1/ns/net")
	if err := a.Check(); err != nil {
		return err
	}
	b := c.run(t, []string{"--network", "container:netA"}, "readlink", "/proc/self/ns/net")
	if err := harness.Expect(b, a.Out()); err != nil {
		return fmt.Errorf("joined container's net ns differs: %w", err)
	}
	host, _ := os.Readlink("/proc/self/ns/net")
	if a.Out() == host {
		return fmt.Errorf("container shares the host's net ns %s", host)
	}
	return nil
}

// pod needs podman's pods: an infra container and two members sharing
// the pod's net, ipc and uts namespaces but not pid.
func (c *cli) pod(t *harness.T) error {
	parent := ""
	for i, a := range c.runArgs {
		if a == "--cgroup-parent" && i+1 < len(c.runArgs) {
			parent = c.runArgs[i+1]
		}
	}
	if err := c.x(t, "pod", "create", "--name", "pd", "--cgroup-parent", parent+"/pod").Check(); err != nil {
		return err
	}
	for _, n := range []string{"pd1", "pd2"} {
		args := []string{"run", "-d", "--pull", "never", "--pod", "pd", "--name", n, c.image}
		if err := c.x(t, append(args, sleeper...)...).Check(); err != nil {
			return err
		}
	}
	var ns [2]string
	for i, n := range []string{"pd1", "pd2"} {
		r := c.x(t, "exec", n, "sh", "-c", "for n in net ipc uts pid; do readlink /proc/1/ns/$n; done | tr '\\n' ' '")
		if err := r.Check(); err != nil {
			return err
		}
		ns[i] = r.Out()
	}
	a, b := strings.Fields(ns[0]), strings.Fields(ns[1])
	if len(a) != 4 || len(b) != 4 {
		return fmt.Errorf("namespaces: %q / %q", ns[0], ns[1])
	}
	for i, n := range []string{"net", "ipc", "uts"} {
		if a[i] != b[i] {
			return fmt.Errorf("pod members do not share %s: %s vs %s", n, a[i], b[i])
		}
	}
	if a[3] == b[3] {
		return fmt.Errorf("pod members share the pid ns %s; want one each", a[3])
	}
	if err := c.x(t, "pod", "stop", "-t", "5", "pd").Check(); err != nil {
		return err
	}
	return c.x(t, "pod", "rm", "pd").Check()
}

// cgroupParent checks from the host that the container's processes sit in
// the cgroup the engine asked for, below this run's parent.
func (c *cli) cgroupParent(t *harness.T) error {
	if err := c.detach(t, "cgp", nil); err != nil {
		return err
	}
	pid, err := c.inspect(t, "cgp", "{{.State.Pid}}")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Log, "/proc/%s/cgroup:\n%s", pid, data)
	parent := c.runArgs[indexOf(c.runArgs, "--cgroup-parent")+1]
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if strings.Contains(parts[1], "memory") || strings.Contains(parts[1], "pids") {
			if !strings.HasPrefix(parts[2], parent+"/") {
				return fmt.Errorf("cgroup %s is %s, want below %s", parts[1], parts[2], parent)
			}
		}
	}
	return nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func (c *cli) limits(t *harness.T) error {
	script := strings.Join([]string{
		cgroupRead("memory/memory.limit_in_bytes", "memory.max"),
		cgroupRead("pids/pids.max", "pids.max"),
		cgroupRead("cpu/cpu.cfs_quota_us", "cpu.max"),
		cgroupRead("cpu/cpu.shares", "cpu.weight"),
	}, "; ")
	r := c.run(t, []string{"--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512"}, "sh", "-c", script)
	if err := r.Check(); err != nil {
		return err
	}
	got := strings.Fields(r.Out())
	// v1: 67108864 50 50000 512; v2: 67108864 50 50000 100000 <weight>.
	if len(got) < 4 || got[0] != "67108864" || got[1] != "50" || got[2] != "50000" {
		return fmt.Errorf("limits read back %q, want memory 67108864, pids 50, cpu quota 50000", r.Out())
	}
	if len(got) == 4 && got[3] != "512" {
		return fmt.Errorf("cpu.shares %s, want 512", got[3])
	}
	return nil
}

func (c *cli) capDrop(t *harness.T) error {
	probe := "touch /tmp/f && chown 1000 /tmp/f && echo chowned || echo denied"
	if err := harness.Expect(c.run(t, nil, "sh", "-c", probe), "chowned"); err != nil {
		return fmt.Errorf("default caps: %w", err)
	}
	if err := harness.Expect(c.run(t, []string{"--cap-drop", "CHOWN"}, "sh", "-c", probe+" 2>/dev/null"), "denied"); err != nil {
		return fmt.Errorf("--cap-drop CHOWN: %w", err)
	}
	r := c.run(t, []string{"--cap-drop", "ALL"}, "sh", "-c", "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status | awk '{print $2}' | sort -u")
	return harness.Expect(r, "0000000000000000")
}

func (c *cli) readOnly(t *harness.T) error {
	r := c.run(t, []string{"--read-only"}, "sh", "-c", "touch /etc/x 2>&1; echo rc=$?")
	return harness.ExpectContains(r, "Read-only file system", "rc=1")
}

func (c *cli) user(t *harness.T) error {
	if err := harness.Expect(c.run(t, []string{"--user", "runo"}, "sh", "-c", `echo "$(id -u):$(id -g):$HOME"`), "1000:1000:/home/runo"); err != nil {
		return err
	}
	return harness.Expect(c.run(t, []string{"--user", "1234:5678", "--group-add", "4242"}, "sh", "-c", `echo "$(id -u):$(id -g):$(id -G)"`), "1234:5678:5678 4242")
}

func (c *cli) env(t *harness.T) error {
	r := c.run(t, []string{"-e", "FOO=bar baz", "-e", "EMPTY="}, "sh", "-c", `echo "$FOO|${EMPTY-unset}|$PATH"`)
	return harness.Expect(r, "bar baz||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

func (c *cli) workdirHostname(t *harness.T) error {
	r := c.run(t, []string{"-w", "/home/runo", "--hostname", "runohost"}, "sh", "-c", `echo "$(pwd) $(hostname)"`)
	return harness.Expect(r, "/home/runo runohost")
}

func (c *cli) bindTmpfs(t *harness.T) error {
	host := filepath.Join(t.Dir, "vol")
	ro := filepath.Join(t.Dir, "ro")
	for _, d := range []string{host, ro} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(ro, "seed"), []byte("seed\n"), 0o644); err != nil {
		return err
	}
	script := `echo written > /data/f && cat /ro/seed && (touch /ro/x 2>/dev/null && echo ro-writable || echo ro-denied) && grep -c ' /scratch tmpfs ' /proc/mounts && echo t > /scratch/t && cat /scratch/t`
	r := c.run(t, []string{"-v", host + ":/data", "-v", ro + ":/ro:ro", "--tmpfs", "/scratch:size=1m"}, "sh", "-c", script)
	if err := harness.Expect(r, "seed\nro-denied\n1\nt"); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(host, "f"))
	if err != nil || string(data) != "written\n" {
		return fmt.Errorf("bind volume: host sees %q, %v", data, err)
	}
	return nil
}

func (c *cli) ulimit(t *harness.T) error {
	r := c.run(t, []string{"--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500:600"}, "sh", "-c", `echo "$(ulimit -n) $(ulimit -Hn) $(ulimit -u)"`)
	return harness.Expect(r, "1024 2048 500")
}

func (c *cli) sysctl(t *harness.T) error {
	r := c.run(t, []string{"--network", "none", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.msgmax=12345"},
		"sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax")
	return harness.Expect(r, "1\n12345")
}

func (c *cli) device(t *harness.T) error {
	r := c.run(t, []string{"--device", "/dev/zero:/dev/runozero"}, "sh", "-c",
		"test -c /dev/runozero && head -c 4 /dev/runozero | od -An -tx1 | tr -d ' '")
	return harness.Expect(r, "00000000")
}

// seccomp: the engine's default profile is installed (filter mode 2) and
// denies swapon(2), which neither docker's nor podman's profile allows even
// with CAP_SYS_ADMIN. With the capability and seccomp=unconfined the kernel
// gets as far as rejecting /dev/null as a swap file (EINVAL), so a denial
// (EPERM for docker's profile, ENOSYS for podman's) is the profile's doing.
func (c *cli) seccomp(t *harness.T) error {
	probe := "grep '^Seccomp:' /proc/self/status | awk '{print $2}'; swapon /dev/null 2>&1; true"
	r := c.run(t, []string{"--cap-add", "SYS_ADMIN"}, "sh", "-c", probe)
	if err := harness.ExpectContains(r, "2\n"); err != nil {
		return fmt.Errorf("default profile not installed: %w", err)
	}
	if !strings.Contains(r.Out(), "Operation not permitted") && !strings.Contains(r.Out(), "Function not implemented") {
		return fmt.Errorf("default profile: swapon not denied: %q", r.Out())
	}
	r = c.run(t, []string{"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined"}, "sh", "-c", probe)
	return harness.ExpectContains(r, "0\n", "Invalid argument")
}

func (c *cli) pauseUnpause(t *harness.T) error {
	if err := c.detach(t, "pau", nil, "sh", "-c", "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; usleep 20000; done"); err != nil {
		return err
	}
	if err := harness.ExpectContains(c.x(t, "exec", "pau", "sh", "-c", "while ! test -s /tmp/tick; do usleep 10000; done; echo ticking"), "ticking"); err != nil {
		return err
	}
	if err := c.x(t, "pause", "pau").Check(); err != nil {
		return err
	}
	if err := harness.Expect(c.x(t, "inspect", "--format", "{{.State.Status}}", "pau"), "paused"); err != nil {
		return err
	}
	pid, err := c.inspect(t, "pau", "{{.State.Pid}}")
	if err != nil {
		return err
	}
	// The check is that the ticker file, read through the init's root,
	// stops changing while frozen and changes again after.
	tick := filepath.Join("/proc", pid, "root", "tmp", "tick")
	a, _ := os.ReadFile(tick)
	waitMS(t, 200)
	b, _ := os.ReadFile(tick)
	if len(a) == 0 || string(a) != string(b) {
		return fmt.Errorf("paused container still runs: tick %q then %q", a, b)
	}
	if err := c.x(t, "unpause", "pau").Check(); err != nil {
		return err
	}
	waitMS(t, 200)
	d, _ := os.ReadFile(tick)
	if string(d) == string(b) {
		return fmt.Errorf("unpaused container does not run: tick stuck at %q", d)
	}
	return harness.Expect(c.x(t, "exec", "pau", "echo", "alive"), "alive")
}

func (c *cli) update(t *harness.T) error {
	if err := c.detach(t, "upd", []string{"--memory", "64m", "--cpus", "0.5"}); err != nil {
		return err
	}
	args := []string{"update", "--memory", "128m", "--cpus", "0.25"}
	if c.kind == "docker" {
		args = append(args, "--memory-swap", "256m", "--pids-limit", "77")
	}
	if err := c.x(t, append(args, "upd")...).Check(); err != nil {
		return err
	}
	script := cgroupRead("memory/memory.limit_in_bytes", "memory.max") + "; " + cgroupRead("cpu/cpu.cfs_quota_us", "cpu.max")
	want := "134217728\n25000"
	if c.kind == "docker" {
		script += "; " + cgroupRead("pids/pids.max", "pids.max")
		want += "\n77"
	}
	r := c.x(t, "exec", "upd", "sh", "-c", script)
	if err := r.Check(); err != nil {
		return err
	}
	got := strings.Fields(r.Out())
	if len(got) > 1 && strings.HasPrefix(r.Out(), "134217728\n25000 100000") {
		// cgroup v2's cpu.max is "quota period"; normalise to v1's form.
		got = append(got[:2], got[3:]...)
	}
	if strings.Join(got, "\n") != want {
		return fmt.Errorf("after update read %q, want %q", r.Out(), want)
	}
	return nil
}

func (c *cli) top(t *harness.T) error {
	if err := c.detach(t, "tp", nil); err != nil {
		return err
	}
	return harness.ExpectContains(c.x(t, "top", "tp"), "sleep 600")
}

func (c *cli) stats(t *harness.T) error {
	if err := c.detach(t, "st", []string{"--memory", "64m"}); err != nil {
		return err
	}
	r := c.x(t, "stats", "--no-stream", "--format", "{{.MemUsage}}|{{.PIDs}}", "st")
	if err := r.Check(); err != nil {
		return err
	}
	out := r.Out()
	parts := strings.Split(out, "|")
	// 64MiB shows as "64MiB" (docker) or "67.11MB" (podman).
	if len(parts) != 2 || !(strings.Contains(parts[0], "64MiB") || strings.Contains(parts[0], "67.11MB")) || parts[1] == "0" || parts[1] == "--" {
		return fmt.Errorf("stats %q: want a usage against the 64MiB limit and a pid count", out)
	}
	return nil
}

func (c *cli) restart(t *harness.T) error {
	if err := c.detach(t, "rs", nil); err != nil {
		return err
	}
	pid1, err := c.inspect(t, "rs", "{{.State.Pid}}")
	if err != nil {
		return err
	}
	if err := c.x(t, "restart", "-t", "5", "rs").Check(); err != nil {
		return err
	}
	pid2, err := c.inspect(t, "rs", "{{.State.Pid}} {{.State.Status}}")
	if err != nil {
		return err
	}
	if pid2 == pid1+" running" || !strings.HasSuffix(pid2, " running") {
		return fmt.Errorf("after restart pid/status %q (before: %s)", pid2, pid1)
	}
	return harness.Expect(c.x(t, "exec", "rs", "echo", "back"), "back")
}

// init: with --init the engine's init (docker-init = tini, podman's
// catatonit) is pid 1 and the command its child.
func (c *cli) init(t *harness.T) error {
	r := c.run(t, []string{"--init"}, "sh", "-c", "cat /proc/1/comm; cat /proc/$$/stat | awk '{print $4}'")
	if err := r.Check(); err != nil {
		return err
	}
	lines := strings.Split(r.Out(), "\n")
	if len(lines) != 2 || lines[0] == "sh" || lines[1] != "1" {
		return fmt.Errorf("--init: pid 1 %q, parent of sh %q; want an init as pid 1 and sh its child", lines[0], strings.Join(lines[1:], ""))
	}
	return nil
}
