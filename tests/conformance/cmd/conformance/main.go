// Command conformance runs the OCI runtime-tools validation suite against a
// runtime and compares the outcome with an expected-failures list.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/runo-dev/runo/tests/conformance/internal/expect"
	"github.com/runo-dev/runo/tests/conformance/internal/suite"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	runtime     string
	runtimeArgs string
	privateRoot bool
	buildDir    string
	expected    string
	timeout     time.Duration
	filter      string
	nsSetup     string
	logDir      string
	keep        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.runtime, "runtime", os.Getenv("RUNTIME"), "runtime binary to test (default $RUNTIME)")
	fs.StringVar(&o.runtimeArgs, "runtime-args", os.Getenv("RUNTIME_ARGS"), "global flags for the runtime, space separated (default $RUNTIME_ARGS)")
	fs.BoolVar(&o.privateRoot, "private-root", true, "give the runtime a private --root so leaked containers can be deleted")
	fs.StringVar(&o.buildDir, "build", ".build", "directory holding bin/ (validation programs), runtimetest and rootfs-amd64.tar.gz")
	fs.StringVar(&o.expected, "expected", "", "expected-failures list; empty means every failure counts")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "time limit per program")
	fs.StringVar(&o.filter, "run", "", "only run programs whose name matches this regexp")
	fs.StringVar(&o.nsSetup, "ns-setup", "", "shell snippet run in each program's private mount namespace first")
	fs.StringVar(&o.logDir, "logs", "", "keep each program's output in this directory (default <build>/logs/<runtime>)")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (bundles, runtime state)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.runtime == "" {
		return o, fmt.Errorf("no runtime: pass -runtime or set RUNTIME")
	}
	abs, err := filepath.Abs(o.buildDir)
	if err != nil {
		return o, fmt.Errorf("-build: %w", err)
	}
	// The programs run in scratch directories of their own.
	o.buildDir = abs
	if o.logDir == "" {
		o.logDir = filepath.Join(o.buildDir, "logs", filepath.Base(o.runtime))
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 2
	}
	if err := execute(o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 1
	}
	return 0
}

func execute(o options, stdout, stderr io.Writer) error {
	list, err := expect.Load(o.expected)
	if err != nil {
		return err
	}
	binDir := filepath.Join(o.buildDir, "bin")
	all, err := suite.Programs(binDir)
	if err != nil {
		return err
	}
	programs, err := selectPrograms(all, o.filter)
	if err != nil {
		return err
	}

	work, err := os.MkdirTemp("", "runo-conformance-")
	if err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	// The bundles are untarred here; other users' processes inside the
	// container need to traverse it.
	if err := os.Chmod(work, 0o755); err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	if o.keep {
		fmt.Fprintln(stderr, "conformance: keeping scratch dir", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := os.RemoveAll(o.logDir); err != nil {
		return fmt.Errorf("clear old logs: %w", err)
	}

	r, err := suite.NewRunner(suite.Config{
		Runtime:     o.runtime,
		RuntimeArgs: strings.Fields(o.runtimeArgs),
		PrivateRoot: o.privateRoot,
		BinDir:      binDir,
		Runtimetest: filepath.Join(o.buildDir, "runtimetest"),
		Rootfs:      filepath.Join(o.buildDir, "rootfs-amd64.tar.gz"),
		Timeout:     o.timeout,
		NSSetup:     o.nsSetup,
		WorkDir:     work,
		LogDir:      o.logDir,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(stdout, "runtime: %s %s (RUNTIME=%s)\n", o.runtime, o.runtimeArgs, r.RuntimeCommand())
	fmt.Fprintf(stdout, "logs:    %s\n\n", o.logDir)
	fmt.Fprintf(stdout, "%-34s %5s %6s %5s  %-7s %7s  %s\n", "PROGRAM", "OK", "NOT-OK", "SKIP", "VERDICT", "TIME", "NOTE")
	outcomes := map[string]expect.Outcome{}
	var results []suite.Result
	for _, name := range programs {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted")
		}
		res := r.RunProgram(ctx, name)
		results = append(results, res)
		outcomes[name] = outcomeOf(res.Verdict)
		fmt.Fprintf(stdout, "%-34s %5d %6d %5d  %-7s %6.1fs  %s\n", name, res.TAP.Pass, res.TAP.Fail+len(res.TAP.OrphanErrors),
			res.TAP.Skip, shownVerdict(res.Verdict, list, name), res.Duration.Seconds(), res.Note)
	}
	rep := expect.Compare(list, outcomes, all)
	printSummary(stdout, results, rep)
	if !rep.OK() {
		return fmt.Errorf("results differ from %s", describeList(o.expected))
	}
	return nil
}

// shownVerdict marks results that the expected-failures list foresaw
// (xfail) or that contradict it (XPASS).
func shownVerdict(v suite.Verdict, list expect.List, name string) string {
	if _, listed := list[name]; listed {
		switch outcomeOf(v) {
		case expect.Fail:
			return "xfail"
		case expect.Pass:
			return "XPASS"
		}
	}
	return string(v)
}

func selectPrograms(all []string, filter string) ([]string, error) {
	if filter == "" {
		return all, nil
	}
	re, err := regexp.Compile(filter)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var out []string
	for _, n := range all {
		if re.MatchString(n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-run %q matches no program", filter)
	}
	return out, nil
}

func outcomeOf(v suite.Verdict) expect.Outcome {
	switch {
	case v.Failed():
		return expect.Fail
	case v == suite.VerdictSkip:
		return expect.Skip
	}
	return expect.Pass
}

func describeList(path string) string {
	if path == "" {
		return "a clean run (no expected-failures list given)"
	}
	return path
}

func printSummary(w io.Writer, results []suite.Result, rep expect.Report) {
	var pass, fail, skip int
	for _, r := range results {
		switch outcomeOf(r.Verdict) {
		case expect.Pass:
			pass++
		case expect.Fail:
			fail++
		default:
			skip++
		}
	}
	fmt.Fprintf(w, "\nTotal: %d programs: %d pass, %d fail (%d expected), %d skip\n",
		len(results), pass, fail, len(rep.ExpectedFailures), skip)
	for _, l := range []struct {
		what  string
		names []string
	}{
		{"unexpected failures", rep.UnexpectedFailures},
		{"unexpected passes (remove from the list)", rep.UnexpectedPasses},
		{"listed programs that are not in the suite", rep.UnknownEntries},
	} {
		if len(l.names) > 0 {
			fmt.Fprintf(w, "%s: %s\n", l.what, strings.Join(l.names, " "))
		}
	}
	// Expected failures are reported with the skips on the closing line, so
	// that its "failed" count is exactly what makes the run fail.
	gating := len(rep.UnexpectedFailures) + len(rep.UnexpectedPasses) + len(rep.UnknownEntries)
	fmt.Fprintf(w, "conformance: %d passed, %d failed, %d skipped\n", pass, gating, skip+len(rep.ExpectedFailures))
}
