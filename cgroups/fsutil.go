package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// readFile returns the content of dir/name with surrounding whitespace removed.
func readFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b)), nil
}

// writeFile writes value to an existing cgroup control file. Control files must not be
// created or truncated like regular files: O_TRUNC is harmless on cgroupfs but O_CREAT would
// hide a missing file (an absent controller) behind a confusing error.
func writeFile(dir, name, value string) error {
	p := filepath.Join(dir, name)
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", p, err)
	}
	defer unix.Close(fd)
	// The kernel parses one write at a time; a short write would corrupt the value.
	for {
		_, err = unix.Write(fd, []byte(value))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

func fileExists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// readUint parses a single-number control file; "max" reads as the maximum value.
func readUint(dir, name string) (uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, err
	}
	return parseUint(s)
}

// parseUint accepts "max" (v2) and negative numbers (v1 reports -1 for "unlimited" in some
// files) as unlimited, mapped to the maximum uint64.
func parseUint(s string) (uint64, error) {
	if s == "max" {
		return ^uint64(0), nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return ^uint64(0), nil
		}
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return v, nil
}

// readKeyValues parses "key value" lines (memory.stat, cpu.stat, ...). Lines that do not
// parse are skipped: kernels add new keys over time and some carry non-numeric values.
func readKeyValues(dir, name string) (map[string]uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return parseKeyValues(string(b)), nil
}

func parseKeyValues(s string) map[string]uint64 {
	m := make(map[string]uint64)
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, err := parseUint(f[1])
		if err != nil {
			continue
		}
		m[f[0]] = v
	}
	return m
}

// readProcs lists the pids in cgroup.procs of dir.
func readProcs(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse pid %q in %s: %w", f, dir, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// walkPids collects the pids of dir and every descendant cgroup.
func walkPids(dir string) ([]int, error) {
	var all []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			// A descendant removed while walking is not an error.
			if errors.Is(err, os.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		pids, err := readProcs(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p != dir {
				return nil
			}
			return fmt.Errorf("read pids of %s: %w", p, err)
		}
		all = append(all, pids...)
		return nil
	})
	return all, err
}

// subdirsDeepestFirst returns dir and its descendant directories, children before parents,
// which is the only order in which rmdir can succeed.
func subdirsDeepestFirst(dir string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	return dirs, err
}

// resourceError names the spec resource that could not be applied.
func resourceError(resource string, err error) error {
	return fmt.Errorf("cgroup: %s: %w", resource, err)
}

// errNotAvailable reports a control file that this kernel or layout does not provide.
func errNotAvailable(resource, file string) error {
	return fmt.Errorf("cgroup: %s: %s not available", resource, file)
}
