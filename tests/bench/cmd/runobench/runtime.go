package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// runtimeInfo is one OCI runtime under test.
type runtimeInfo struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Root      string `json:"root"`
	Version   string `json:"version"`
	SizeBytes int64  `json:"size_bytes"`
}

func newRuntime(name, path, rootParent string) (*runtimeInfo, error) {
	abs, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("find %s runtime %q: %w", name, path, err)
	}
	if abs, err = filepath.Abs(abs); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", abs, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", real, err)
	}
	root := filepath.Join(rootParent, name)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", root, err)
	}
	out, _ := exec.Command(real, "--version").CombinedOutput()
	version := strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
	return &runtimeInfo{Name: name, Path: real, Root: root, Version: version, SizeBytes: st.Size()}, nil
}

// argv builds a command line with this runtime's private --root.
func (r *runtimeInfo) argv(args ...string) []string {
	return append([]string{r.Path, "--root", r.Root}, args...)
}

// bench holds everything shared by the phases of one run.
type bench struct {
	cfg      config
	rts      []*runtimeInfo
	floorBin string
	x        *runner
	tmpl     *specTemplate
	tmp      string
	rootfs   string
	bundles  string
	cg       cgroupView
	cgParent string // single path element, e.g. runo-bench-1a2b3c4d
	seq      atomic.Int64
}

// container is one container instance: id "<runtime>-<n>", its bundle and
// its cgroup "/<bench parent>/<runtime>-<n>".
type container struct {
	rt     *runtimeInfo
	id     string
	bundle string
	cgPath string
}

func (b *bench) newContainer(rt *runtimeInfo, cs containerSpec) (*container, error) {
	id := fmt.Sprintf("%s-%d", rt.Name, b.seq.Add(1))
	c := &container{rt: rt, id: id, bundle: filepath.Join(b.bundles, id), cgPath: "/" + b.cgParent + "/" + id}
	cs.cgroupsPath = c.cgPath
	if err := b.tmpl.writeBundle(c.bundle, cs); err != nil {
		return nil, err
	}
	return c, nil
}

// discard removes the container (forcefully, untimed) and its bundle. Used
// after failures and at the end of phases that measure something else.
func (b *bench) discard(ctx context.Context, c *container) {
	if _, err := os.Stat(filepath.Join(c.rt.Root, c.id)); err == nil {
		b.x.run(ctx, c.rt.argv("delete", "--force", c.id)...)
	}
	os.RemoveAll(c.bundle)
}

// waitExit waits until pid is gone or a zombie. The harness is the child
// subreaper, so an exited container init is reaped by it shortly after.
func waitExit(ctx context.Context, pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	for {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		// state is the first field after the parenthesised comm.
		if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
			if s := data[i+2]; s == 'Z' || s == 'X' {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still running after %s", pid, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid file %s: %q", path, data)
	}
	return pid, nil
}
