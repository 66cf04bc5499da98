package engines

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// containerd is a containerd daemon of this run: its own root, state,
// sockets and plugin dirs under dir.
type containerd struct {
	dir    string
	sock   string
	daemon *harness.Daemon
}

// startContainerd writes a config (extra is appended: CRI settings) and
// starts the daemon, waiting for its socket.
func startContainerd(dir string, disableCRI bool, extra string) (*containerd, error) {
	c := &containerd{dir: dir, sock: filepath.Join(dir, "c.sock")}
	disabled := "[]"
	if disableCRI {
		disabled = `["io.containerd.grpc.v1.cri"]`
	}
	cfg := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = %[3]s

[grpc]
  address = %[4]q

[ttrpc]
  address = %[5]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[6]q
%[7]s`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), disabled, c.sock, c.sock+".ttrpc", filepath.Join(dir, "opt"), extra)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("write containerd config: %w", err)
	}
	d, err := harness.StartDaemon("containerd", filepath.Join(dir, "containerd.log"), "containerd", "--config", cfgPath, "--log-level", "debug")
	if err != nil {
		return nil, err
	}
	c.daemon = d
	if err := d.WaitSocket(c.sock, 30*time.Second); err != nil {
		d.Stop(context.Background(), 5*time.Second)
		return nil, err
	}
	return c, nil
}

func (c *containerd) stop(ctx context.Context, log io.Writer) error {
	if c == nil || c.daemon == nil {
		return nil
	}
	err := c.daemon.Stop(ctx, 15*time.Second)
	if log != nil {
		fmt.Fprintf(log, "containerd (pid %d) stopped: %v\n", c.daemon.Pid(), err)
	}
	return err
}
