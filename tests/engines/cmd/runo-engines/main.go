// Command runo-engines runs real container engines (podman, containerd/ctr,
// docker, the CRI through crictl) with runo handed to them by path in
// place of runc, and the same scenarios with runc as the control. It prints
// a table engine × scenario and exits non-zero when runo fails a scenario
// that runc passes, or when a runc control fails (an environment problem).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/engines"
	"github.com/runo-dev/runo/tests/engines/internal/harness"
	"github.com/runo-dev/runo/tests/engines/internal/image"
)

func main() {
	os.Exit(run())
}

func run() int {
	runo := flag.String("runo", "", "path of the runtime under test (required)")
	runc := flag.String("runc", "/usr/sbin/runc", "path of the control runtime; empty to run without control")
	list := flag.String("engines", "podman,ctr,docker,cri", "comma-separated engines to run")
	only := flag.String("run", "", "regexp: only scenarios whose name matches")
	logDir := flag.String("logs", "", "directory for per-scenario logs, kept after the run (default $TMPDIR/runo-engines-logs-<rand>)")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox for the test image")
	crictl := flag.String("crictl", "crictl", "crictl binary for the cri engine")
	keep := flag.Bool("keep", false, "keep the temp dir (not the daemons) for inspection")
	flag.Parse()
	if *runo == "" {
		fmt.Fprintln(os.Stderr, "runo-engines: -runo is required")
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "runo-engines: must run as root")
		return 2
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(os.Stderr, "runo-engines: -run: %v\n", err)
			return 2
		}
	}
	runtimes := []harness.Runtime{{Name: "runo", Path: mustAbs(*runo)}}
	controls := []string{}
	if *runc != "" {
		runtimes = append(runtimes, harness.Runtime{Name: "runc", Path: mustAbs(*runc)})
		controls = append(controls, "runc")
	}
	for _, rt := range runtimes {
		if st, err := os.Stat(rt.Path); err != nil || st.Mode()&0o111 == 0 {
			fmt.Fprintf(os.Stderr, "runo-engines: runtime %s: %s is not an executable (%v)\n", rt.Name, rt.Path, err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()

	suffix := randHex(4)
	dir, err := os.MkdirTemp("", "runo-engines-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "runo-engines: %v\n", err)
		return 1
	}
	cgroupName := "runo-engines-" + suffix
	if *logDir == "" {
		*logDir = filepath.Join(os.TempDir(), "runo-engines-logs-"+suffix)
	}
	code := func() int {
		images, err := buildImages(dir, *busybox)
		if err != nil {
			fmt.Fprintf(os.Stderr, "runo-engines: %v\n", err)
			return 1
		}
		opt := harness.Options{
			Dir: dir, CgroupName: cgroupName, LogDir: mustAbs(*logDir), Images: images,
			Filter: filter, Out: os.Stdout,
		}
		known := map[string]harness.Engine{
			"podman": engines.Podman,
			"ctr":    engines.Ctr,
			"docker": engines.Docker,
			"cri":    engines.CRI(*crictl),
		}
		rep := harness.NewReport("runo", controls...)
		for _, name := range strings.Split(*list, ",") {
			eng, ok := known[strings.TrimSpace(name)]
			if !ok {
				fmt.Fprintf(os.Stderr, "runo-engines: unknown engine %q\n", name)
				return 2
			}
			harness.RunEngine(ctx, eng, runtimes, opt, rep)
		}
		fmt.Println()
		rep.Print(os.Stdout)
		fmt.Printf("\nlogs: %s\nwall time: %.0fs\n", opt.LogDir, time.Since(start).Seconds())
		p, f, s := rep.Counts()
		fmt.Printf("engines: %d passed, %d failed, %d skipped\n", p, f, s)
		if rep.Failed() || ctx.Err() != nil {
			return 1
		}
		return 0
	}()
	if *keep {
		fmt.Printf("kept %s (cgroup %s)\n", dir, cgroupName)
		return code
	}
	if err := harness.Sweep(dir, cgroupName); err != nil {
		fmt.Fprintf(os.Stderr, "runo-engines: cleanup: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func buildImages(dir, busybox string) (harness.Images, error) {
	layer, err := image.RootfsLayer(busybox)
	if err != nil {
		return harness.Images{}, err
	}
	im := harness.Images{
		Archive: filepath.Join(dir, "images.tar"),
		Busybox: "localhost/runo-busybox:latest",
		Pause:   "localhost/runo-pause:latest",
	}
	specs := []image.Spec{
		{Ref: im.Busybox, Cmd: []string{"sh"}},
		// The sandbox's only job is to hold namespaces; it exits on TERM
		// so a pod stops without waiting for a SIGKILL.
		{Ref: im.Pause, Entrypoint: []string{"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"}},
	}
	if err := image.WriteArchive(im.Archive, layer, specs); err != nil {
		return harness.Images{}, err
	}
	return im, nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
