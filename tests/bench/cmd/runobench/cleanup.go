package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// cleanup removes everything the bench created, on every path: leftover
// containers (via their runtime), processes still in the bench cgroups, the
// bench cgroup parent in every hierarchy, mounts under the temp dir, and the
// temp dir.
func (b *bench) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, rt := range b.rts {
		ents, _ := os.ReadDir(rt.Root)
		for _, e := range ents {
			if e.IsDir() {
				b.x.run(ctx, rt.argv("delete", "--force", e.Name())...)
			}
		}
	}
	var errs []error
	if err := b.removeCgroupParent(); err != nil {
		errs = append(errs, err)
	}
	if err := lazyUnmountUnder(b.tmp); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", b.tmp, err))
	}
	return errors.Join(errs...)
}

// removeCgroupParent kills what is left in /<bench parent> (only processes
// the bench started can be there) and removes its directories deepest first.
func (b *bench) removeCgroupParent() error {
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		lastErr = nil
		for _, h := range b.cg.hierarchies {
			root := filepath.Join(h, b.cgParent)
			if _, err := os.Stat(root); err != nil {
				continue
			}
			for _, pid := range cgroupPids(root) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			var dirs []string
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
			for _, d := range dirs {
				if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
					lastErr = fmt.Errorf("remove cgroup %s: %w", d, err)
				}
			}
		}
		if lastErr == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return lastErr
}
