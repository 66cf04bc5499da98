package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// ErrNotExist is returned for a container id with no state; its text is what engines match.
var ErrNotExist = errors.New("container does not exist")

// State is what runo keeps in <root>/<id>/state.json. Status is never stored: it is derived
// from the init process, the exec fifo and the freezer each time (see Container.Status).
type State struct {
	ID      string `json:"id"`
	Bundle  string `json:"bundle"`
	Rootfs  string `json:"rootfs"`
	InitPid int    `json:"init_pid"`
	// InitStartTime is field 22 of /proc/<pid>/stat; a different value means pid reuse.
	InitStartTime uint64    `json:"init_start_time"`
	Created       time.Time `json:"created"`
	Owner         string    `json:"owner"`
	// Config is the spec the container was created with: hooks, annotations and cgroupsPath
	// come from it, and exec inherits its process settings.
	Config *specs.Spec `json:"config"`
}

// The accessors tolerate a state file without a config (damaged by hand): no panic.
func (s *State) hooks() *specs.Hooks {
	if s.Config == nil {
		return nil
	}
	return s.Config.Hooks
}

func (s *State) annotations() map[string]string {
	if s.Config == nil {
		return nil
	}
	return s.Config.Annotations
}

func (s *State) cgroupsPath() string {
	if s.Config == nil || s.Config.Linux == nil {
		return ""
	}
	return s.Config.Linux.CgroupsPath
}

func (s *State) save(dir string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), b, 0o600)
}

func loadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// writeFileAtomic writes data to a temporary file in the same directory and renames it into
// place, so readers see either the old or the new content.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// lockFile takes an exclusive flock on <dir>/.lock (serialising operations on one container
// or, for the root, creation of ids). The lock goes with the returned fd.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// processStartTime reads field 22 (starttime) of /proc/<pid>/stat and whether it is a zombie.
func processStartTime(pid int) (uint64, bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false, err
	}
	// The command name may contain spaces and parentheses: parse after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	var fields [20]string
	n := 0
	start := i + 2
	for j := start; j <= len(b) && n < len(fields); j++ {
		if j == len(b) || b[j] == ' ' {
			fields[n] = string(b[start:j])
			n++
			start = j + 1
		}
	}
	if n < 20 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat: short", pid)
	}
	var st uint64
	if _, err := fmt.Sscan(fields[19], &st); err != nil {
		return 0, false, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return st, fields[0] == "Z" || fields[0] == "X", nil
}
