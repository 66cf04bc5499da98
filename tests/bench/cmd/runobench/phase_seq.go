package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var trueArgs = []string{"/bin/true"}

// phaseRun times `<rt> run` of /bin/true in the foreground, interleaving the
// runtimes and the kernel floor (A B C F A B C F ...).
func (b *bench) phaseRun(ctx context.Context) (wall, cpu *metric) {
	wall = newMetric("run", "run /bin/true", "ms", true, true,
		"wall time of one foreground `<rt> run` (create, start, wait, delete) of /bin/true")
	cpu = newMetric("cpu_run", "CPU run /bin/true", "ms", true, true,
		"user+sys of the `run` process and every descendant it waited for (wait4 rusage)")
	for i := 0; i < b.cfg.N && ctx.Err() == nil; i++ {
		progress(i, b.cfg.N)
		for _, rt := range b.rts {
			c, err := b.newContainer(rt, containerSpec{args: trueArgs})
			if err != nil {
				wall.of(rt.Name).add(0, err)
				continue
			}
			s := b.x.run(ctx, rt.argv("run", "--bundle", c.bundle, c.id)...)
			wall.of(rt.Name).add(ms(s.wall), s.err)
			cpu.of(rt.Name).add(ms(s.cpu), s.err)
			b.discard(ctx, c)
		}
		s := b.x.run(ctx, b.floorBin, b.rootfs, "/bin/true")
		wall.of(floorName).add(ms(s.wall), s.err)
		cpu.of(floorName).add(ms(s.cpu), s.err)
	}
	progressDone()
	return wall, cpu
}

// phaseCreateStartDelete times create + start + delete of /bin/true. The
// wait for the container's exit between start and delete is not timed.
func (b *bench) phaseCreateStartDelete(ctx context.Context) (wall, cpu *metric) {
	wall = newMetric("csd", "create+start+delete", "ms", true, true,
		"sum of the wall times of `create`, `start` and `delete` of /bin/true; the wait for the exit between start and delete is excluded")
	cpu = newMetric("cpu_csd", "CPU create+start+delete", "ms", true, true,
		"user+sys of the three commands (wait4 rusage); the container process itself is reparented to the harness and not counted")
	for i := 0; i < b.cfg.N && ctx.Err() == nil; i++ {
		progress(i, b.cfg.N)
		for _, rt := range b.rts {
			s := b.createStartDelete(ctx, rt, nil)
			wall.of(rt.Name).add(ms(s.wall), s.err)
			cpu.of(rt.Name).add(ms(s.cpu), s.err)
		}
	}
	progressDone()
	return wall, cpu
}

// createStartDelete runs one /bin/true container through its life cycle.
// beforeDelete, if set, runs untimed once the process has exited.
func (b *bench) createStartDelete(ctx context.Context, rt *runtimeInfo, beforeDelete func(*container) error) sample {
	var total sample
	c, err := b.newContainer(rt, containerSpec{args: trueArgs})
	if err != nil {
		return sample{err: err}
	}
	defer b.discard(ctx, c)
	pidFile := filepath.Join(c.bundle, "init.pid")
	total.add(b.x.run(ctx, rt.argv("create", "--bundle", c.bundle, "--pid-file", pidFile, c.id)...))
	if total.err != nil {
		return total
	}
	total.add(b.x.run(ctx, rt.argv("start", c.id)...))
	if total.err != nil {
		return total
	}
	pid, err := readPidFile(pidFile)
	if err == nil {
		err = waitExit(ctx, pid, b.cfg.Timeout)
	}
	if err == nil && beforeDelete != nil {
		err = beforeDelete(c)
	}
	if err != nil {
		total.err = fmt.Errorf("%s container %s: %w", rt.Name, c.id, err)
		return total
	}
	total.add(b.x.run(ctx, rt.argv("delete", c.id)...))
	return total
}

// phaseExec times `<rt> exec <id> /bin/true` into a running `sleep 1000`
// container. A runtime whose first exec fails is reported as n/a.
func (b *bench) phaseExec(ctx context.Context) (wall, cpu *metric) {
	wall = newMetric("exec", "exec /bin/true", "ms", true, true,
		"wall time of `<rt> exec <id> /bin/true` into a running container")
	cpu = newMetric("cpu_exec", "CPU exec /bin/true", "ms", true, true,
		"user+sys of the `exec` process and the descendants it waited for (wait4 rusage)")
	ready := map[string]*container{}
	for _, rt := range b.rts {
		c, err := b.newContainer(rt, containerSpec{args: []string{"/bin/sleep", "1000"}})
		if err != nil {
			wall.of(rt.Name).NA = err.Error()
			continue
		}
		defer b.discard(context.WithoutCancel(ctx), c)
		if s := b.x.run(ctx, rt.argv("run", "--detach", "--bundle", c.bundle, c.id)...); s.err != nil {
			wall.of(rt.Name).NA = "run -d failed: " + s.err.Error()
			continue
		}
		// The probe is also the warm-up.
		if s := b.x.run(ctx, rt.argv("exec", c.id, "/bin/true")...); s.err != nil {
			wall.of(rt.Name).NA = "exec failed: " + s.err.Error()
			cpu.of(rt.Name).NA = wall.of(rt.Name).NA
			fmt.Fprintf(os.Stderr, "  %s: exec n/a: %v\n", rt.Name, s.err)
			continue
		}
		ready[rt.Name] = c
	}
	for i := 0; i < b.cfg.N && ctx.Err() == nil && len(ready) > 0; i++ {
		progress(i, b.cfg.N)
		for _, rt := range b.rts {
			c := ready[rt.Name]
			if c == nil {
				continue
			}
			s := b.x.run(ctx, rt.argv("exec", c.id, "/bin/true")...)
			wall.of(rt.Name).add(ms(s.wall), s.err)
			cpu.of(rt.Name).add(ms(s.cpu), s.err)
		}
	}
	progressDone()
	return wall, cpu
}

// warmUp runs each runtime and the floor once, untimed, so the first timed
// sample does not pay for cold page cache.
func (b *bench) warmUp(ctx context.Context) {
	for _, rt := range b.rts {
		c, err := b.newContainer(rt, containerSpec{args: trueArgs})
		if err != nil {
			continue
		}
		if s := b.x.run(ctx, rt.argv("run", "--bundle", c.bundle, c.id)...); s.err != nil {
			fmt.Fprintf(os.Stderr, "  warm-up: %s run failed: %v\n", rt.Name, s.err)
		}
		b.discard(ctx, c)
	}
	if s := b.x.run(ctx, b.floorBin, b.rootfs, "/bin/true"); s.err != nil {
		fmt.Fprintf(os.Stderr, "  warm-up: floor failed: %v\n", s.err)
	}
}
