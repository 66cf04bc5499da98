package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// innerEnv marks the re-executed harness that already lives in the private
// mount namespace.
const innerEnv = "RUNOBENCH_INNER"

// hybridUnified is where hybrid hosts mount their (nearly empty) cgroup2
// tree. crun refuses such hosts, so it is hidden from all three runtimes.
const hybridUnified = "/sys/fs/cgroup/unified"

// reexecPrivate runs this harness again in a private mount namespace and
// returns its exit code. Go's Unshareflags with CLONE_NEWNS also remounts /
// recursively private in the child before exec, so nothing done inside leaks
// back to the host.
func reexecPrivate() (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 1, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), innerEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	// The inner harness must clean up on ^C or SIGTERM; the outer one only
	// passes the signal on (a terminal's ^C reaches both, a kill only this
	// one) and waits.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("re-exec in private mount namespace: %w", err)
	}
	go func() {
		for sig := range sigs {
			cmd.Process.Signal(sig)
		}
	}()
	err = cmd.Wait()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 1, fmt.Errorf("wait for inner harness: %w", err)
	}
	return 0, nil
}

type mountEntry struct {
	mountPoint string
	fsType     string
	superOpts  string
}

func readMounts() ([]mountEntry, error) {
	ms, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	out := make([]mountEntry, len(ms))
	for i, m := range ms {
		out[i] = mountEntry{mountPoint: m.Mountpoint, fsType: m.FSType, superOpts: m.VFSOptions}
	}
	return out, nil
}

func countMounts() (int, error) {
	m, err := readMounts()
	return len(m), err
}

// cgroupView describes the cgroup hierarchies visible to the runtimes.
type cgroupView struct {
	mode        string   // "v1" or "v2"
	hierarchies []string // mount points
	memoryRoot  string   // hierarchy holding the memory controller
}

// prepareCgroupView hides the hybrid cgroup2 mount (inside our private mount
// namespace only) and reports what is left.
func prepareCgroupView() (cgroupView, []string, error) {
	var notes []string
	mounts, err := readMounts()
	if err != nil {
		return cgroupView{}, nil, err
	}
	for _, m := range mounts {
		if m.mountPoint == hybridUnified && m.fsType == "cgroup2" {
			if err := unix.Unmount(hybridUnified, unix.MNT_DETACH); err != nil {
				return cgroupView{}, nil, fmt.Errorf("unmount %s in private namespace: %w", hybridUnified, err)
			}
			notes = append(notes, "hybrid host: "+hybridUnified+" lazily unmounted in the bench's private mount namespace")
			break
		}
	}
	mounts, err = readMounts()
	if err != nil {
		return cgroupView{}, nil, err
	}
	var v cgroupView
	for _, m := range mounts {
		switch m.fsType {
		case "cgroup2":
			if m.mountPoint == "/sys/fs/cgroup" {
				v.mode = "v2"
				v.hierarchies = []string{m.mountPoint}
				v.memoryRoot = m.mountPoint
				return v, notes, nil
			}
		case "cgroup":
			v.mode = "v1"
			v.hierarchies = append(v.hierarchies, m.mountPoint)
			for _, o := range strings.Split(m.superOpts, ",") {
				if o == "memory" {
					v.memoryRoot = m.mountPoint
				}
			}
		}
	}
	if v.mode == "" {
		return v, notes, fmt.Errorf("no cgroup hierarchy mounted")
	}
	return v, notes, nil
}

// peakMemoryFile is the cgroup's high-water mark of charged memory.
func (v cgroupView) peakMemoryFile(cgPath string) string {
	if v.mode == "v2" {
		return filepath.Join(v.memoryRoot, cgPath, "memory.peak")
	}
	return filepath.Join(v.memoryRoot, cgPath, "memory.max_usage_in_bytes")
}

func (v cgroupView) memoryLimitFile(cgPath string) string {
	if v.mode == "v2" {
		return filepath.Join(v.memoryRoot, cgPath, "memory.max")
	}
	return filepath.Join(v.memoryRoot, cgPath, "memory.limit_in_bytes")
}

// lazyUnmountUnder detaches every mount at or below dir (deepest first), so a
// recursive removal of dir cannot reach into a mount a runtime left behind.
func lazyUnmountUnder(dir string) error {
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	var errs []string
	for i := len(mounts) - 1; i >= 0; i-- {
		mp := mounts[i].mountPoint
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
				errs = append(errs, fmt.Sprintf("unmount %s: %v", mp, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// mountDiff lists mount points present more often in b than in a (added)
// and the reverse (removed).
func mountDiff(a, b []mountEntry) (added, removed []string) {
	count := map[string]int{}
	for _, m := range a {
		count[m.mountPoint+" ("+m.fsType+")"]--
	}
	for _, m := range b {
		count[m.mountPoint+" ("+m.fsType+")"]++
	}
	for k, n := range count {
		for ; n > 0; n-- {
			added = append(added, k)
		}
		for ; n < 0; n++ {
			removed = append(removed, k)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}
