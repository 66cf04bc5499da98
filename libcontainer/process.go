package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/libcontainer/capabilities"
	"github.com/runo-dev/runo/selinux"
)

var rlimitTypes = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
	specs.SchedISO: 4, specs.SchedIdle: 5, specs.SchedDeadline: 6,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10, specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

func setHostname(spec *specs.Spec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("domainname: %w", err)
		}
	}
	return nil
}

// writeSysctls writes through the container's /proc, verifying that every file really is on a
// procfs: an image cannot redirect the writes with a fake /proc (CVE-2019-19921 class).
func writeSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	procfd, err := openProcfs()
	if err != nil {
		return fmt.Errorf("linux.sysctl: %w", err)
	}
	defer unix.Close(procfd)
	for key, value := range sysctl {
		rel := "sys/" + strings.ReplaceAll(key, ".", "/")
		if err := writeProcFile(procfd, rel, value); err != nil {
			return fmt.Errorf("linux.sysctl: %s: %w", key, err)
		}
	}
	return nil
}

// openProcfs opens /proc and checks that it is a real procfs.
func openProcfs() (int, error) {
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /proc: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("/proc is not a procfs mount")
	}
	return fd, nil
}

func writeProcFile(procfd int, rel, value string) error {
	how := &unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(procfd, rel, how)
	if err != nil {
		return fmt.Errorf("open /proc/%s: %w", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("/proc/%s is not on procfs", rel)
	}
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("write /proc/%s: %w", rel, err)
	}
	return nil
}

// joinSessionKeyring gives the container a session keyring of its own, so it cannot read the
// host's. Kernels or user namespaces without keyring support are not an error (as runc).
func joinSessionKeyring(id, label string) error {
	if err := selinux.SetKeyLabel(label); err != nil {
		return err
	}
	unix.KeyctlJoinSessionKeyring("_ses." + id)
	return nil
}

func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && len(b) > 0 && b[0] == 'Y'
}

// applyLSM sets the AppArmor profile and the SELinux label for the exec. The AppArmor attr
// file is named by this thread's own pid/tid: /proc/self and /proc/thread-self are symlinks,
// which the verified procfs lookup refuses to follow.
func applyLSM(proc *specs.Process) error {
	if proc.ApparmorProfile != "" {
		procfd, err := openProcfs()
		if err != nil {
			return fmt.Errorf("process.apparmorProfile: %w", err)
		}
		defer unix.Close(procfd)
		task := fmt.Sprintf("%d/task/%d/attr/", unix.Getpid(), unix.Gettid())
		rel := task + "apparmor/exec"
		if _, err := os.Stat("/proc/" + rel); err != nil {
			rel = task + "exec" // kernels without the per-LSM attr directory
		}
		if err := writeProcFile(procfd, rel, "exec "+proc.ApparmorProfile); err != nil {
			return fmt.Errorf("process.apparmorProfile %s: %w", proc.ApparmorProfile, err)
		}
	}
	return selinux.SetExecLabel(proc.SelinuxLabel)
}

// addressSpaceRlimits limit the process's own mappings. init's Go runtime has reserved about
// 1.2 GiB of address space and maps more as it allocates, so such a limit applied with the
// others (runtime-tools sets RLIMIT_AS to 1 GiB) makes its next mapping fail: "fatal error:
// runtime: cannot allocate memory". They are applied by execProcess instead, right before
// execve; here only a hard limit above the current one is raised, while init still has
// CAP_SYS_RESOURCE.
var addressSpaceRlimits = map[string]bool{"RLIMIT_AS": true, "RLIMIT_DATA": true}

func setProcessAttrs(proc *specs.Process, personality *specs.LinuxPersonality) error {
	for _, r := range proc.Rlimits {
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if addressSpaceRlimits[r.Type] {
			if err := unix.Getrlimit(rlimitTypes[r.Type], &lim); err != nil || lim.Max >= r.Hard {
				continue
			}
			lim.Max = r.Hard
		}
		if err := unix.Setrlimit(rlimitTypes[r.Type], &lim); err != nil {
			return fmt.Errorf("process.rlimits: %s (soft %d, hard %d): %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	if p := personality; p != nil {
		var dom uintptr
		switch p.Domain {
		case specs.PerLinux:
			dom = 0
		case specs.PerLinux32:
			dom = 0x0008
		default:
			return fmt.Errorf("linux.personality.domain: unknown %q", p.Domain)
		}
		if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, dom, 0, 0); e != 0 {
			return fmt.Errorf("linux.personality: %w", e)
		}
	}
	if s := proc.Scheduler; s != nil {
		attr := unix.SchedAttr{
			Size: unix.SizeofSchedAttr, Policy: schedPolicies[s.Policy], Nice: s.Nice,
			Priority: uint32(s.Priority), Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
		}
		for _, f := range s.Flags {
			attr.Flags |= schedFlags[f]
		}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			return fmt.Errorf("process.scheduler: %w", err)
		}
	}
	if p := proc.IOPriority; p != nil {
		const ioprioWhoProcess = 1
		prio := ioprioClasses[p.Class]<<13 | p.Priority
		if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); e != 0 {
			return fmt.Errorf("process.ioPriority: %w", e)
		}
	}
	return nil
}

// setAffinity applies execCPUAffinity: the initial set before joining the cgroup, the final
// one after.
func setAffinity(a *specs.CPUAffinity, initial bool) error {
	if a == nil {
		return nil
	}
	list, field := a.Final, "final"
	if initial {
		list, field = a.Initial, "initial"
	}
	if list == "" {
		return nil
	}
	set, err := parseCPUList(list)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.%s: %w", field, err)
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return fmt.Errorf("process.execCPUAffinity.%s: %w", field, err)
	}
	return nil
}

// maxCPU bounds a CPU number: what a CPUSet can hold (sched_setaffinity's default size).
const maxCPU = len(unix.CPUSet{}) * 64

func parseCPUList(s string) (*unix.CPUSet, error) {
	var set unix.CPUSet
	for _, part := range strings.Split(s, ",") {
		lo, hi, found := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad cpu list %q", s)
		}
		b := a
		if found {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad cpu list %q", s)
			}
		}
		if b >= maxCPU {
			return nil, fmt.Errorf("cpu list %q: cpu %d beyond the last one, %d", s, b, maxCPU-1)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return &set, nil
}

// setupUser switches to the process user, keeping the configured capabilities across the
// uid change, then enters the working directory and checks it is inside the container.
//
// cwdDone says enterCwd already succeeded as root (the usual case); otherwise the directory is
// entered here, as the process user.
func setupUser(proc *specs.Process, caps *capabilities.Caps, cwdDone bool) error {
	if err := caps.ApplyBounding(); err != nil {
		return fmt.Errorf("process.capabilities.bounding: %w", err)
	}
	if err := capabilities.KeepCaps(); err != nil {
		return err
	}
	u := proc.User
	if !setgroupsDenied() {
		gids := make([]int, len(u.AdditionalGids))
		for i, g := range u.AdditionalGids {
			gids[i] = int(g)
		}
		if err := unix.Setgroups(gids); err != nil {
			return fmt.Errorf("process.user.additionalGids: %w", err)
		}
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid %d: %w", u.UID, err)
	}
	if err := capabilities.ClearKeepCaps(); err != nil {
		return err
	}
	if err := caps.ApplyCaps(); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	if !cwdDone {
		if err := enterCwd(proc.Cwd); err != nil {
			return err
		}
	}
	mask := 0o022
	if u.Umask != nil {
		mask = int(*u.Umask)
	}
	unix.Umask(mask)
	return nil
}

// enterCwd changes to the process's working directory and checks that it is inside the
// container: a cwd reached through a leaked fd (/proc/self/fd/N) reads back as
// "(unreachable)/…" or fails (CVE-2024-21626). It runs before any seccomp filter is loaded,
// since a profile may forbid getcwd(2).
func enterCwd(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("process.cwd %s: %w", cwd, err)
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("process.cwd %s: the working directory is outside the container", cwd)
	}
	return nil
}

// setgroupsDenied reports whether this user namespace forbids setgroups(2).
func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}

// lookPath resolves args[0] in the container (after the pivot) using the process's PATH, as the
// user that will run it, so that a missing binary fails `create`, not the later `start`.
func lookPath(proc *specs.Process) (string, error) {
	name := proc.Args[0]
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range proc.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no such file or directory")
		}
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if err := unix.Access(p, unix.X_OK); err != nil {
		return fmt.Errorf("permission denied")
	}
	return nil
}

// processEnv is the spec's env plus HOME from the container's /etc/passwd when unset (as runc).
func processEnv(proc *specs.Process) []string {
	for _, e := range proc.Env {
		if strings.HasPrefix(e, "HOME=") {
			return proc.Env
		}
	}
	return append(append([]string{}, proc.Env...), "HOME="+homeDir(proc.User.UID))
}

func homeDir(uid uint32) string {
	if f := passwdEntry(uid); f != nil {
		return f[5]
	}
	return "/"
}

// passwdEntry returns the seven fields of uid's line in /etc/passwd (of the root the process
// sees), or nil.
func passwdEntry(uid uint32) []string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return nil
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Split(sc.Text(), ":"); len(fields) >= 7 && fields[2] == want {
			return fields
		}
	}
	return nil
}
