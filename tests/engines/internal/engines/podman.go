package engines

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// Podman is podman with conmon, the cgroupfs manager and state of its own.
var Podman = harness.Engine{Name: "podman", New: newPodman}

type podman struct {
	cli
	env harness.Env
}

func newPodman(env harness.Env) harness.Instance {
	d := env.Dir
	p := &podman{env: env}
	p.kind = "podman"
	p.image = env.Images.Busybox
	p.cmd = harness.Cmd{
		Bin: "podman",
		Args: []string{
			"--root", filepath.Join(d, "root"),
			"--runroot", filepath.Join(d, "run"),
			"--tmpdir", filepath.Join(d, "tmp"),
			"--storage-driver", "overlay",
			"--cgroup-manager", "cgroupfs",
			"--events-backend", "file",
			"--runtime", env.Runtime.Path,
			"--conmon", "/usr/bin/conmon",
		},
		Env: []string{
			"CONTAINERS_CONF=" + filepath.Join(d, "containers.conf"),
			"CONTAINERS_STORAGE_CONF=" + filepath.Join(d, "storage.conf"),
			"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(d, "registries.conf"),
		},
		Timeout: 60 * time.Second,
	}
	p.runArgs = []string{"--pull", "never", "--cgroup-parent", env.CgroupParent}
	return p
}

// containersConf keeps podman away from the host's defaults: file locks
// (the shm lock segment is shared by every podman on the host), a file
// events log, no network unless a scenario asks, our sandbox image as the
// pod infra image and Debian's static catatonit for --init.
const containersConf = `[containers]
netns = "none"
log_driver = "k8s-file"
init_path = "/usr/bin/catatonit"
default_ulimits = [%[3]s]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
lock_type = "file"
num_locks = 256
infra_image = "%[2]s"
static_dir = "%[1]s/root/libpod"
tmp_dir = "%[1]s/tmp"
volume_path = "%[1]s/volumes"

[network]
network_config_dir = "%[1]s/net"
`

// hostUlimits caps podman's default nofile/nproc (1048576 for root) at
// this process's hard limits: raising a hard limit needs CAP_SYS_RESOURCE,
// which a sandboxed CI root may lack, and then every runtime, runc
// included, fails to start the container. nproc is further capped at 32768:
// podman 4.3 hands conmon (and so the runtime) at most that when it cannot
// raise its own limit.
func hostUlimits() string {
	var out []string
	for _, l := range []struct {
		name     string
		res      int
		fallback uint64
	}{{"nofile", syscall.RLIMIT_NOFILE, 1048576}, {"nproc", 6 /* RLIMIT_NPROC */, 32768}} {
		var r syscall.Rlimit
		v := l.fallback
		if err := syscall.Getrlimit(l.res, &r); err == nil && r.Max < v {
			v = r.Max
		}
		out = append(out, fmt.Sprintf("%q", fmt.Sprintf("%s=%d:%d", l.name, v, v)))
	}
	return strings.Join(out, ", ")
}

func (p *podman) Setup(ctx context.Context, log io.Writer) error {
	d := p.env.Dir
	files := map[string]string{
		"containers.conf": fmt.Sprintf(containersConf, d, p.env.Images.Pause, hostUlimits()),
		"storage.conf":    fmt.Sprintf("[storage]\ndriver = \"overlay\"\nrunroot = \"%s/run\"\ngraphroot = \"%s/root\"\n", d, d),
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	for _, sub := range []string{"net", "tmp", "volumes"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	cmd := p.cmd.With(log)
	if err := cmd.Run(ctx, "load", "-i", p.env.Images.Archive).Check(); err != nil {
		return fmt.Errorf("podman load: %w", err)
	}
	for _, ref := range []string{p.env.Images.Busybox, p.env.Images.Pause} {
		if err := cmd.Run(ctx, "image", "exists", ref).Check(); err != nil {
			return fmt.Errorf("image %s not loaded: %w", ref, err)
		}
	}
	return nil
}

func (p *podman) Scenarios() []harness.Scenario {
	return p.scenarios(func(f string) bool { return true })
}

func (p *podman) Clean(ctx context.Context, log io.Writer) error {
	cmd := p.cmd.With(log)
	errs := []error{
		cmd.Run(ctx, "pod", "rm", "--all", "--force").Check(),
		cmd.Run(ctx, "rm", "--all", "--force", "--time", "0").Check(),
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (p *podman) Teardown(ctx context.Context, log io.Writer) error {
	err := p.Clean(ctx, log)
	// Unmounts the storage driver's layers so the sweep finds nothing busy.
	p.cmd.With(log).Run(ctx, "system", "reset", "--force")
	return err
}
