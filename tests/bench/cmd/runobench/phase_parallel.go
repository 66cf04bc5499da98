package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// parallelMetrics are the rows of the parallel phase.
type parallelMetrics struct {
	start, del, errs, running            *metric
	leakMounts, leakCg, leakSt, leakProc *metric
}

func newParallelMetrics(n int) *parallelMetrics {
	return &parallelMetrics{
		start: newMetric("par_start", fmt.Sprintf("%d x run -d, parallel", n), "s", false, true,
			fmt.Sprintf("wall time until all %d concurrent `run -d` of sleep 1000 have returned", n)),
		del: newMetric("par_delete", fmt.Sprintf("%d x delete -f, parallel", n), "s", false, true,
			fmt.Sprintf("wall time until all %d concurrent `delete --force` have returned", n)),
		errs: newMetric("par_errors", "parallel errors (run+delete)", "count", false, false,
			"failed `run -d` plus failed `delete --force`, summed over rounds; must be 0").withAgg("sum"),
		running: newMetric("par_running", "containers running after start", "count", false, false,
			"containers whose cgroup held a process once all `run -d` returned (min over rounds)").withAgg("min"),
		leakMounts: newMetric("leak_mounts", "leaked mounts", "count", false, false,
			"mountinfo lines of the bench mount namespace after deleting, minus before starting (max over rounds)").withAgg("max"),
		leakCg: newMetric("leak_cgroups", "leaked cgroup dirs", "count", false, false,
			"<rt>-* dirs left under the bench cgroup parent (max over rounds)").withAgg("max"),
		leakSt: newMetric("leak_states", "leaked state dirs", "count", false, false,
			"entries left in the runtime's --root (max over rounds)").withAgg("max"),
		leakProc: newMetric("leak_procs", "leaked processes", "count", false, false,
			"processes left in the runtime's cgroups, running its binary, or alive as the harness's children (max over rounds)").withAgg("max"),
	}
}

func (p *parallelMetrics) all() []*metric {
	return []*metric{p.start, p.del, p.errs, p.running, p.leakMounts, p.leakCg, p.leakSt, p.leakProc}
}

// phaseParallel starts cfg.Par containers at once per runtime, deletes them
// all at once, and checks what was left behind. Rounds alternate runtimes.
func (b *bench) phaseParallel(ctx context.Context) *parallelMetrics {
	pm := newParallelMetrics(b.cfg.Par)
	for round := 0; round < b.cfg.ParRounds && ctx.Err() == nil; round++ {
		for _, rt := range b.rts {
			if ctx.Err() != nil {
				break
			}
			b.parallelRound(ctx, rt, pm)
		}
	}
	return pm
}

func (b *bench) parallelRound(ctx context.Context, rt *runtimeInfo, pm *parallelMetrics) {
	// Processes of the previous round may still be dying; counting them in
	// the baseline would make the next diff negative.
	b.settle(rt, 0, 3*time.Second)
	before := b.snapshot(rt)
	cs := make([]*container, 0, b.cfg.Par)
	for i := 0; i < b.cfg.Par; i++ {
		c, err := b.newContainer(rt, containerSpec{args: []string{"/bin/sleep", "1000"}})
		if err != nil {
			pm.errs.of(rt.Name).add(0, err)
			return
		}
		cs = append(cs, c)
	}
	defer func() {
		for _, c := range cs {
			os.RemoveAll(c.bundle)
		}
	}()

	startErrs, startWall := b.parallel(ctx, cs, func(c *container) []string {
		return rt.argv("run", "--detach", "--bundle", c.bundle, c.id)
	})
	running := 0
	for _, c := range cs {
		if len(cgroupPids(filepath.Join(b.cg.memoryRoot, c.cgPath))) > 0 {
			running++
		}
	}
	// Seeing the containers here shows the leak counters can count them.
	live := b.snapshot(rt).minus(before)
	delErrs, delWall := b.parallel(ctx, cs, func(c *container) []string {
		return rt.argv("delete", "--force", c.id)
	})
	if ctx.Err() != nil {
		// Commands were killed half-way: the leak numbers would be noise.
		// The final cleanup removes what is left.
		return
	}
	b.settle(rt, before.Procs, 3*time.Second)
	leak := b.snapshot(rt).minus(before).clampZero()

	fmt.Fprintf(os.Stderr, "  %s: start %.2fs (%d errors, %d running; counted live %+v), delete %.2fs (%d errors), leaks %+v\n",
		rt.Name, startWall.Seconds(), len(startErrs), running, live, delWall.Seconds(), len(delErrs), leak)
	pm.start.of(rt.Name).add(startWall.Seconds(), nil)
	pm.del.of(rt.Name).add(delWall.Seconds(), nil)
	pm.running.of(rt.Name).add(float64(running), nil)
	errSt := pm.errs.of(rt.Name)
	errSt.add(float64(len(startErrs)+len(delErrs)), nil)
	for _, err := range append(startErrs, delErrs...) {
		if errSt.FirstError == "" {
			errSt.FirstError = err.Error()
		}
	}
	pm.leakMounts.of(rt.Name).add(float64(leak.Mounts), nil)
	pm.leakCg.of(rt.Name).add(float64(leak.Cgroups), nil)
	pm.leakSt.of(rt.Name).add(float64(leak.States), nil)
	pm.leakProc.of(rt.Name).add(float64(leak.Procs), nil)
}

// parallel runs one command per container, all at once, and returns the
// failures and the wall time until the last one returned.
func (b *bench) parallel(ctx context.Context, cs []*container, argv func(*container) []string) ([]error, time.Duration) {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	begin := make(chan struct{})
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			if s := b.x.run(ctx, argv(c)...); s.err != nil {
				mu.Lock()
				errs = append(errs, s.err)
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	close(begin)
	wg.Wait()
	return errs, time.Since(start)
}
