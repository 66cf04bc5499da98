// Command runobench is the side-by-side benchmark of runo, runc and crun
// behind `make bench`. It re-executes itself in a private mount namespace
// (where a hybrid host's cgroup2 mount is hidden so that all three runtimes
// see the same pure v1 or pure v2 view), interleaves the runtimes sample by
// sample (A B C A B C ...), and writes a table to stdout, bench-results.json
// and bench-results.png to the output directory. See tests/bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type config struct {
	N          int           `json:"n"`
	Par        int           `json:"parallel"`
	ParRounds  int           `json:"parallel_rounds"`
	MemSamples int           `json:"peak_memory_samples"`
	Timeout    time.Duration `json:"command_timeout_ns"`
	Runo       string        `json:"runo"`
	Runc       string        `json:"runc"`
	Crun       string        `json:"crun"`
	Floor      string        `json:"floor_helper"`
	Busybox    string        `json:"busybox"`
	Out        string        `json:"out_dir"`
	Phases     string        `json:"phases"`
	Replot     string        `json:"-"`
}

const allPhases = "run,csd,exec,parallel,memory"

func parseFlags() config {
	var c config
	self, _ := os.Executable()
	flag.IntVar(&c.N, "n", 50, "samples per runtime for run, create+start+delete and exec")
	flag.IntVar(&c.Par, "par", 100, "containers started at once in the parallel phase")
	flag.IntVar(&c.ParRounds, "par-rounds", 0, "rounds of the parallel phase per runtime (0: 3 if -n >= 20, else 1)")
	flag.IntVar(&c.MemSamples, "mem-samples", 0, "peak-memory samples per runtime (0: min(n, 10))")
	flag.DurationVar(&c.Timeout, "timeout", 60*time.Second, "limit for any single runtime command")
	flag.StringVar(&c.Runo, "runo", "bin/runo", "runo binary")
	flag.StringVar(&c.Runc, "runc", "runc", "runc binary")
	flag.StringVar(&c.Crun, "crun", "crun", "crun binary")
	flag.StringVar(&c.Floor, "floor", filepath.Join(filepath.Dir(self), "nsfloor"), "kernel-floor helper (tests/bench/cmd/nsfloor)")
	flag.StringVar(&c.Busybox, "busybox", "/bin/busybox", "static busybox for the rootfs (Debian busybox-static)")
	flag.StringVar(&c.Out, "out", "tests/bench/out", "output directory for bench-results.json and .png")
	flag.StringVar(&c.Phases, "phases", allPhases, "comma-separated phases to run")
	flag.StringVar(&c.Replot, "replot", "", "only re-render the table and PNG from this bench-results.json")
	flag.Parse()
	if c.ParRounds <= 0 {
		c.ParRounds = 1
		if c.N >= 20 {
			c.ParRounds = 3
		}
	}
	if c.MemSamples <= 0 {
		c.MemSamples = min(c.N, 10)
	}
	return c
}

func main() {
	cfg := parseFlags()
	if cfg.N < 1 || cfg.Par < 1 {
		fmt.Fprintln(os.Stderr, "runobench: -n and -par must be at least 1")
		os.Exit(2)
	}
	if cfg.Replot != "" {
		if err := replot(cfg.Replot, cfg.Out); err != nil {
			fmt.Fprintln(os.Stderr, "runobench:", err)
			os.Exit(1)
		}
		return
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "runobench: must run as root (it creates containers and cgroups)")
		os.Exit(2)
	}
	if os.Getenv(innerEnv) == "" {
		code, err := reexecPrivate()
		if err != nil {
			fmt.Fprintln(os.Stderr, "runobench:", err)
		}
		os.Exit(code)
	}
	if err := inner(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "runobench:", err)
		os.Exit(1)
	}
}

func inner(cfg config) (retErr error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := &report{Started: time.Now(), Config: cfg}
	rep.Host.LoadBefore = readLoadavg()
	rep.Host.CPUs = runtime.NumCPU()
	rep.Host.GoVersion = runtime.Version()
	rep.Host.BusyboxPath = cfg.Busybox
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		rep.Host.Kernel = unix.ByteSliceToString(uts.Release[:])
	}

	cg, notes, err := prepareCgroupView()
	if err != nil {
		return err
	}
	rep.Host.CgroupMode = cg.mode
	rep.Notes = append(rep.Notes, notes...)

	tmp, err := os.MkdirTemp("", "runo-bench-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("random cgroup parent name: %w", err)
	}
	b := &bench{cfg: cfg, tmp: tmp, cg: cg, cgParent: "runo-bench-" + hex.EncodeToString(rnd[:]),
		rootfs: filepath.Join(tmp, "rootfs"), bundles: filepath.Join(tmp, "bundles")}
	b.x = &runner{logDir: filepath.Join(tmp, "logs"), timeout: cfg.Timeout}
	defer func() {
		if err := b.cleanup(); err != nil && retErr == nil {
			retErr = err
		}
		if b.x.reaper != nil {
			b.x.reaper.close()
		}
	}()
	// Setup runs plain exec.Cmds (--version, runc spec); the reaper starts
	// after them so it cannot reap a child those are about to wait for.
	if err := b.setup(ctx); err != nil {
		return err
	}
	rp, err := startReaper()
	if err != nil {
		return err
	}
	b.x.reaper = rp
	rep.Runtimes = b.rts
	fmt.Fprintf(os.Stderr, "runobench: cgroup %s, parent /%s, state and bundles in %s, n=%d, parallel=%dx%d, load %.2f\n",
		cg.mode, b.cgParent, tmp, cfg.N, cfg.Par, cfg.ParRounds, rep.Host.LoadBefore[0])
	for _, rt := range b.rts {
		fmt.Fprintf(os.Stderr, "  %s: %s (%s)\n", rt.Name, rt.Path, rt.Version)
	}

	startMounts, _ := readMounts()
	startSnaps := map[string]leakSnap{}
	for _, rt := range b.rts {
		startSnaps[rt.Name] = b.snapshot(rt)
	}
	b.warmUp(ctx)
	rep.Metrics = b.runPhases(ctx)
	rep.Metrics = append(rep.Metrics, b.leftoverMetric(startSnaps), b.sizeMetric())
	if endMounts, err := readMounts(); err == nil && startMounts != nil {
		added, removed := mountDiff(startMounts, endMounts)
		rep.Notes = append(rep.Notes, fmt.Sprintf("mounts in the bench mount namespace: %d at start, %d after all phases (added %v, removed %v)",
			len(startMounts), len(endMounts), added, removed))
	}
	for _, m := range rep.Metrics {
		m.finish()
	}
	rep.Finished = time.Now()
	rep.Host.LoadAfter = readLoadavg()
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("load average 1/5/15 min: before %.2f/%.2f/%.2f, after %.2f/%.2f/%.2f on %d CPUs",
			rep.Host.LoadBefore[0], rep.Host.LoadBefore[1], rep.Host.LoadBefore[2],
			rep.Host.LoadAfter[0], rep.Host.LoadAfter[1], rep.Host.LoadAfter[2], rep.Host.CPUs))

	printTable(os.Stdout, rep)
	for _, n := range rep.Notes {
		fmt.Println("note:", n)
	}
	jsonPath := filepath.Join(cfg.Out, "bench-results.json")
	if err := writeJSON(jsonPath, rep); err != nil {
		return err
	}
	pngPath := filepath.Join(cfg.Out, "bench-results.png")
	if err := writePlot(pngPath, rep); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", jsonPath, pngPath)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: results are partial")
	}
	return nil
}

func (b *bench) setup(ctx context.Context) error {
	for _, d := range []string{b.x.logDir, b.bundles} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	for _, r := range []struct{ name, path string }{{rtRuno, b.cfg.Runo}, {rtRunc, b.cfg.Runc}, {rtCrun, b.cfg.Crun}} {
		rt, err := newRuntime(r.name, r.path, filepath.Join(b.tmp, "roots"))
		if err != nil {
			return err
		}
		b.rts = append(b.rts, rt)
	}
	floor, err := filepath.Abs(b.cfg.Floor)
	if err != nil {
		return fmt.Errorf("resolve floor helper: %w", err)
	}
	if _, err := os.Stat(floor); err != nil {
		return fmt.Errorf("floor helper (build tests/bench/cmd/nsfloor): %w", err)
	}
	b.floorBin = floor
	if err := buildRootfs(b.rootfs, b.cfg.Busybox); err != nil {
		return err
	}
	// The reference spec comes from runc, so every runtime gets the same
	// defaults that `runc spec` writes.
	tmpl, err := newSpecTemplate(ctx, b.rts[1].Path, filepath.Join(b.tmp, "spec"), b.rootfs)
	if err != nil {
		return err
	}
	b.tmpl = tmpl
	return nil
}

func (b *bench) runPhases(ctx context.Context) []*metric {
	want := map[string]bool{}
	for _, p := range strings.Split(b.cfg.Phases, ",") {
		want[strings.TrimSpace(p)] = true
	}
	var lat, cpu, other []*metric
	phase := func(name, title string, fn func()) {
		if !want[name] || ctx.Err() != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "phase %s: %s\n", name, title)
		fn()
	}
	phase("run", "sequential foreground run of /bin/true (+ kernel floor)", func() {
		w, c := b.phaseRun(ctx)
		lat, cpu = append(lat, w), append(cpu, c)
	})
	phase("csd", "create + start + delete of /bin/true", func() {
		w, c := b.phaseCreateStartDelete(ctx)
		lat, cpu = append(lat, w), append(cpu, c)
	})
	phase("exec", "exec /bin/true into a running container", func() {
		w, c := b.phaseExec(ctx)
		lat, cpu = append(lat, w), append(cpu, c)
	})
	phase("parallel", fmt.Sprintf("%d containers at once, delete, leak check", b.cfg.Par), func() {
		other = append(other, b.phaseParallel(ctx).all()...)
	})
	phase("memory", "smallest memory limit, cgroup peak memory", func() {
		minLimit := b.phaseMinMemory(ctx)
		other = append(other, minLimit, b.phaseLimitReadBack(ctx, minLimit), b.phasePeakMemory(ctx))
	})
	return append(append(lat, cpu...), other...)
}

// leftoverMetric counts, per runtime, cgroup dirs, state dirs and processes
// still there after every phase finished (before the final cleanup), against
// the start: leaks of the sequential phases show up here.
func (b *bench) leftoverMetric(start map[string]leakSnap) *metric {
	m := newMetric("leftovers", "leftovers after all phases", "count", false, false,
		"cgroup dirs + state dirs + processes of the runtime still present after all phases (before cleanup), minus at start").withAgg("max")
	for _, rt := range b.rts {
		b.settle(rt, start[rt.Name].Procs, 3*time.Second)
		d := b.snapshot(rt).minus(start[rt.Name]).clampZero()
		m.of(rt.Name).add(float64(d.Cgroups+d.States+d.Procs), nil)
		if d.Cgroups+d.States+d.Procs > 0 {
			m.of(rt.Name).FirstError = fmt.Sprintf("left behind: %+v", d)
		}
	}
	return m
}

func (b *bench) sizeMetric() *metric {
	m := newMetric("size", "binary size", "MiB", false, true, "size of the runtime executable file (symlinks resolved)")
	for _, rt := range b.rts {
		m.of(rt.Name).add(float64(rt.SizeBytes)/(1<<20), nil)
	}
	return m
}

// progress shows the sample counter on a terminal only, so logs stay clean.
func progress(i, n int) {
	if isTerminal(os.Stderr) {
		fmt.Fprintf(os.Stderr, "\r  %d/%d", i+1, n)
	}
}

func progressDone() {
	if isTerminal(os.Stderr) {
		fmt.Fprintln(os.Stderr)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func replot(jsonPath, outDir string) error {
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("parse %s: %w", jsonPath, err)
	}
	printTable(os.Stdout, &rep)
	for _, n := range rep.Notes {
		fmt.Println("note:", n)
	}
	pngPath := filepath.Join(outDir, "bench-results.png")
	if err := writePlot(pngPath, &rep); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", pngPath)
	return nil
}
