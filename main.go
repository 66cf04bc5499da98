// Command runo is a low-level OCI container runtime, a drop-in replacement for runc.
//
// runo lives for milliseconds: no goroutine needs to re-check the CPU quota for GOMAXPROCS.
//
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	seccompgo "github.com/seccomp/libseccomp-golang"
	"github.com/urfave/cli/v2"

	_ "github.com/runo-dev/runo/internal/startup"
	"github.com/runo-dev/runo/libcontainer"
	_ "github.com/runo-dev/runo/nsenter"
)

// Set at build time with -ldflags "-X main.version=… -X main.gitCommit=…".
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

const usage = `Open Container Initiative runtime

runo is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format and is a compliant implementation of the
Open Container Initiative specification.`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		// `runo init` runs inside the container: no CLI parsing, no logging set-up.
		initMain()
		return
	}
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		fatal(app, err)
	}
}

func versionText() string {
	major, minor, micro := seccompgo.GetLibraryVersion()
	lines := []string{
		"runo version " + version,
		"commit: " + commitText(),
		"spec: " + specs.Version,
		"go: " + runtime.Version(),
		fmt.Sprintf("libseccomp: %d.%d.%d", major, minor, micro),
	}
	return strings.Join(lines, "\n")
}

func commitText() string {
	if gitCommit != "" {
		return gitCommit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintln(c.App.Writer, versionText()) }
	app := &cli.App{
		Name:    "runo",
		Usage:   usage,
		Version: version,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "set the log file to write runo logs to (default is '/dev/stderr')"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
			&cli.StringFlag{Name: "root", Value: "/run/runo", Usage: "root directory for storage of container state (this should be located in tmpfs)"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "enable systemd cgroup support (not supported yet)"},
			&cli.StringFlag{Name: "criu", Hidden: true, Usage: "ignored: checkpoint/restore is not supported"},
			&cli.BoolFlag{Name: "rootless", Hidden: true, Usage: "ignored"},
		},
		Commands: []*cli.Command{
			createCommand, deleteCommand, execCommand, featuresCommand, killCommand, listCommand,
			eventsCommand, pauseCommand, psCommand, resumeCommand, runCommand, specCommand,
			startCommand, stateCommand, updateCommand,
		},
		Before: func(c *cli.Context) error {
			lg, err := openLogger(c.String("log"), c.String("log-format"), c.Bool("debug"))
			if err != nil {
				return err
			}
			c.App.Metadata = map[string]any{"logger": lg}
			if c.Bool("systemd-cgroup") {
				return fmt.Errorf("--systemd-cgroup: the systemd cgroup driver is not supported yet")
			}
			return nil
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	return app
}

// initMain is `runo init`. Errors reach the user through the parent; only a failure to reach
// the parent is printed here.
func initMain() {
	err := libcontainer.Init()
	if err == nil {
		os.Exit(0)
	}
	if !libcontainer.IsReported(err) {
		fmt.Fprintf(os.Stderr, "runo init: %v\n", err)
	}
	os.Exit(1)
}
