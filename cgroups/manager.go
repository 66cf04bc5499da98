package cgroups

import (
	"errors"
	"fmt"
)

// ErrSystemdNotSupported is returned by New for Config.Systemd.
var ErrSystemdNotSupported = errors.New("systemd cgroup driver is not supported yet")

// New returns the manager for cfg on this host's layout. It reads the mount table and
// /proc/self/cgroup but creates nothing.
//
// The container's cgroup is cfg.Path resolved in every hierarchy (see resolveDir): an
// absolute path is taken from the hierarchy root, a relative one from the runtime's own
// cgroup. An empty cfg.Path behaves like the relative path cfg.ContainerID, which is what
// runc's cgroupfs driver does for a spec without linux.cgroupsPath.
func New(cfg Config) (Manager, error) {
	if cfg.Systemd {
		return nil, ErrSystemdNotSupported
	}
	l, err := detectLayout()
	if err != nil {
		return nil, fmt.Errorf("cgroup: detect layout: %w", err)
	}
	return newForLayout(cfg, l)
}

func newForLayout(cfg Config, l *layout) (Manager, error) {
	if l.Mode == modeUnified {
		return newV2Manager(cfg, l)
	}
	return newV1Manager(cfg, l)
}
