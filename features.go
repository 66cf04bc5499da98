package main

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer/capabilities"
	"github.com/runo-dev/runo/libcontainer/rootfs"
	"github.com/runo-dev/runo/seccomp"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "show the enabled features",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		b, err := json.MarshalIndent(runtimeFeatures(), "", "    ")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	},
}

// runtimeFeatures lists only what runo really implements: engines read it to decide what to
// ask for, and runtimes silently ignore unknown config fields.
func runtimeFeatures() *features.Features {
	t, f := true, false
	sc := seccomp.Features()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  rootfs.KnownOptions(),
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities: capabilities.KnownNames(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &f, SystemdUser: &f, Rdma: &t},
			Seccomp:      sc,
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
			IntelRdt:     &features.IntelRdt{Enabled: &f},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: &f},
			},
		},
		Annotations: map[string]string{
			"io.github.runo.version":              version,
			"io.github.runo.commit":               gitCommit,
			"io.github.runo.libseccomp.supported": fmt.Sprint(sc.Enabled != nil && *sc.Enabled),
			"io.github.runo.selinux.host":         fmt.Sprint(selinux.GetEnabled()),
		},
	}
}
