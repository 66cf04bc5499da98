package engines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// Docker is Debian's dockerd with the runtime registered by path as the
// default runtime, its own data/exec roots and socket, no bridge or
// iptables, and the containerd it starts itself.
var Docker = harness.Engine{Name: "docker", New: newDocker}

type docker struct {
	cli
	env    harness.Env
	daemon *harness.Daemon
	sock   string
}

func newDocker(env harness.Env) harness.Instance {
	d := &docker{env: env, sock: filepath.Join(env.Dir, "docker.sock")}
	d.kind = "docker"
	d.image = env.Images.Busybox
	// Debian's client, not a newer one that may sit earlier in PATH.
	d.cmd = harness.Cmd{
		Bin:     "/usr/bin/docker",
		Args:    []string{"--host", "unix://" + d.sock},
		Env:     []string{"DOCKER_CONFIG=" + filepath.Join(env.Dir, "client")},
		Timeout: 60 * time.Second,
	}
	d.runArgs = []string{"--pull", "never", "--cgroup-parent", env.CgroupParent}
	return d
}

// runtimeName is how the runtime is registered with dockerd; "runc" is
// taken by dockerd's built-in entry.
func (d *docker) runtimeName() string {
	if d.env.Runtime.Name == "runc" {
		return "runc-control"
	}
	return d.env.Runtime.Name
}

func (d *docker) Setup(ctx context.Context, log io.Writer) error {
	dir := d.env.Dir
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o644); err != nil {
		return fmt.Errorf("write daemon.json: %w", err)
	}
	args := []string{
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://" + d.sock,
		// The trust key lands next to the config file: keep it ours.
		"--config-file", cfg,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-masq=false",
		"--ip-forward=false", "--userland-proxy=false",
		"--storage-driver", "overlay2",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--cgroup-parent", d.env.CgroupParent,
		"--add-runtime", d.runtimeName() + "=" + d.env.Runtime.Path,
		"--default-runtime", d.runtimeName(),
		"--log-level", "debug",
	}
	dm, err := harness.StartDaemon("dockerd", filepath.Join(dir, "dockerd.log"), "dockerd", args...)
	if err != nil {
		return err
	}
	d.daemon = dm
	fmt.Fprintf(log, "dockerd pid %d: dockerd %s\n", dm.Pid(), strings.Join(args, " "))
	if err := dm.WaitSocket(d.sock, 60*time.Second); err != nil {
		return err
	}
	cmd := d.cmd.With(log)
	if err := harness.ExpectContains(cmd.Run(ctx, "info", "--format", "{{.DefaultRuntime}}"), d.runtimeName()); err != nil {
		return err
	}
	if err := cmd.Run(ctx, "load", "--input", d.env.Images.Archive).Check(); err != nil {
		return fmt.Errorf("docker load: %w", err)
	}
	return cmd.Run(ctx, "image", "inspect", d.env.Images.Busybox).Check()
}

func (d *docker) Scenarios() []harness.Scenario {
	return d.scenarios(func(f string) bool { return f != "pod" })
}

func (d *docker) Clean(ctx context.Context, log io.Writer) error {
	cmd := d.cmd.With(log)
	r := cmd.Run(ctx, "ps", "-aq")
	if err := r.Check(); err != nil {
		return err
	}
	ids := strings.Fields(r.Out())
	if len(ids) == 0 {
		return nil
	}
	return cmd.Run(ctx, append([]string{"rm", "--force", "--volumes"}, ids...)...).Check()
}

func (d *docker) Teardown(ctx context.Context, log io.Writer) error {
	if d.daemon == nil {
		return nil
	}
	err := d.Clean(ctx, log)
	// SIGTERM to dockerd's own pid; it stops the containerd it started.
	serr := d.daemon.Stop(ctx, 30*time.Second)
	fmt.Fprintf(log, "dockerd (pid %d) stopped: %v\n", d.daemon.Pid(), serr)
	return errors.Join(err, serr)
}
