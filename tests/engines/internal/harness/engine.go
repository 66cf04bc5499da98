package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// ErrSkip, wrapped, marks a scenario the engine cannot express here.
var ErrSkip = errors.New("skipped")

// Skipf returns an error that records the scenario as skipped with a reason.
func Skipf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSkip, fmt.Sprintf(format, a...))
}

// Runtime is an OCI runtime binary handed to the engines by path.
type Runtime struct {
	Name string // short name for tables and engine registrations
	Path string
}

// T is what a scenario gets: its context, its log and a scratch directory.
type T struct {
	Ctx context.Context
	Log io.Writer
	Dir string
}

// Scenario is one check run against an engine.
type Scenario struct {
	Name string
	Run  func(t *T) error
}

// Instance is one engine set up with one runtime and its own state.
type Instance interface {
	Setup(ctx context.Context, log io.Writer) error
	Scenarios() []Scenario
	// Clean removes the containers a scenario left, between scenarios.
	Clean(ctx context.Context, log io.Writer) error
	Teardown(ctx context.Context, log io.Writer) error
}

// Env is what an engine factory gets for one runtime.
type Env struct {
	Runtime Runtime
	Dir     string // state directory private to this engine × runtime
	// CgroupParent is an absolute cgroup path private to this engine ×
	// runtime, below the run's /runo-engines-<rand>.
	CgroupParent string
	Images       Images
}

// Images names the imported test images and the archive they come from.
type Images struct {
	Archive string // OCI layout + docker-archive tarball
	Busybox string // reference of the busybox image
	Pause   string // reference of the sandbox (pause) image
}

// Engine makes an instance for a runtime.
type Engine struct {
	Name string
	New  func(env Env) Instance
}

// Options of a run.
type Options struct {
	Dir          string // the run's temp dir
	CgroupName   string // e.g. runo-engines-ab12cd
	LogDir       string // kept after the run
	Images       Images
	Filter       *regexp.Regexp // scenario names to run; nil for all
	Out          io.Writer      // progress lines
	ScenarioTime time.Duration
}

// RunEngine runs every scenario of eng under each runtime and records them.
func RunEngine(ctx context.Context, eng Engine, runtimes []Runtime, opt Options, rep *Report) {
	for _, rt := range runtimes {
		if ctx.Err() != nil {
			return
		}
		env := Env{
			Runtime:      rt,
			Dir:          filepath.Join(opt.Dir, eng.Name+"-"+rt.Name),
			CgroupParent: "/" + opt.CgroupName + "/" + eng.Name + "-" + rt.Name,
			Images:       opt.Images,
		}
		logDir := filepath.Join(opt.LogDir, eng.Name, rt.Name)
		os.MkdirAll(logDir, 0o755)
		os.MkdirAll(env.Dir, 0o755)
		inst := eng.New(env)
		setupLog, _ := os.Create(filepath.Join(logDir, "_setup.log"))
		start := time.Now()
		err := inst.Setup(ctx, setupLog)
		fmt.Fprintf(opt.Out, "%-10s %-5s setup %.1fs %v\n", eng.Name, rt.Name, time.Since(start).Seconds(), errOrOK(err))
		for _, sc := range inst.Scenarios() {
			if opt.Filter != nil && !opt.Filter.MatchString(sc.Name) {
				continue
			}
			if err != nil {
				rep.Record(eng.Name, sc.Name, rt.Name, Cell{Status: Fail, Err: "setup: " + err.Error()})
				continue
			}
			cell := runScenario(ctx, inst, sc, env, logDir, opt)
			rep.Record(eng.Name, sc.Name, rt.Name, cell)
			fmt.Fprintf(opt.Out, "%-10s %-5s %-24s %s %.1fs\n", eng.Name, rt.Name, sc.Name, cell.Status, cell.Dur.Seconds())
		}
		if setupLog != nil {
			if terr := inst.Teardown(context.WithoutCancel(ctx), setupLog); terr != nil {
				fmt.Fprintf(opt.Out, "%-10s %-5s teardown: %v\n", eng.Name, rt.Name, terr)
			}
			setupLog.Close()
		}
	}
}

func runScenario(ctx context.Context, inst Instance, sc Scenario, env Env, logDir string, opt Options) Cell {
	lf, err := os.Create(filepath.Join(logDir, sc.Name+".log"))
	if err != nil {
		return Cell{Status: Fail, Err: err.Error()}
	}
	defer lf.Close()
	dir := filepath.Join(env.Dir, "scn", sc.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Cell{Status: Fail, Err: err.Error()}
	}
	limit := opt.ScenarioTime
	if limit == 0 {
		limit = 2 * time.Minute
	}
	sctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	err = sc.Run(&T{Ctx: sctx, Log: lf, Dir: dir})
	cell := Cell{Status: Pass, Dur: time.Since(start)}
	switch {
	case errors.Is(err, ErrSkip):
		cell.Status, cell.Err = Skip, err.Error()
	case err != nil:
		cell.Status, cell.Err = Fail, err.Error()
	}
	fmt.Fprintf(lf, "== %s %s\n", cell.Status, cell.Err)
	if cerr := inst.Clean(context.WithoutCancel(ctx), lf); cerr != nil {
		fmt.Fprintf(lf, "clean: %v\n", cerr)
	}
	return cell
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return "FAILED: " + err.Error()
}

// S makes a Scenario; scenario tables read better positionally.
func S(name string, run func(t *T) error) Scenario { return Scenario{Name: name, Run: run} }
