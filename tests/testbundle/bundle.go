// Package testbundle builds throwaway OCI bundles (busybox rootfs plus a
// `runc spec`-equivalent config.json) and drives the runtime binary against
// them, cleaning up containers, cgroups and files on every path.
package testbundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bundle is one test's bundle, container id, state root and cgroup parent.
type Bundle struct {
	t testing.TB
	// Dir is the bundle directory (holds config.json and rootfs/).
	Dir string
	// Rootfs is Dir/rootfs.
	Rootfs string
	// Spec is written to Dir/config.json by New and by WriteSpec.
	Spec *specs.Spec
	// ID is a container id unique to this bundle.
	ID string
	// Root is the per-test state directory passed as --root.
	Root string
	// CgroupParent is the per-bundle cgroup parent ("/runo-test-<rand>");
	// Spec.Linux.CgroupsPath is CgroupParent + "/" + ID.
	CgroupParent string
}

// Option customises New.
type Option func(*Bundle)

// WithSpec mutates the spec before it is first written.
func WithSpec(mutate func(*specs.Spec)) Option {
	return func(b *Bundle) { mutate(b.Spec) }
}

// WithArgs sets process.args.
func WithArgs(args ...string) Option {
	return func(b *Bundle) { b.Spec.Process.Args = args }
}

// WithRoot shares a state directory between bundles (e.g. to test `list`).
func WithRoot(root string) Option {
	return func(b *Bundle) { b.Root = root }
}

// New creates a bundle in a temp dir and registers cleanup: containers are
// force-deleted, then cgroups removed, then files.
func New(t testing.TB, opts ...Option) *Bundle {
	t.Helper()
	dir, err := os.MkdirTemp("", "runo-bundle-")
	if err != nil {
		t.Fatalf("bundle dir: %v", err)
	}
	// Containers in a user namespace run as unprivileged host ids and must be
	// able to reach the rootfs.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("chmod bundle dir: %v", err)
	}
	b := &Bundle{t: t, Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: DefaultSpec()}
	t.Cleanup(func() { removeBundleDir(t, dir) })
	if err := BuildRootfs(b.Rootfs); err != nil {
		t.Fatalf("rootfs: %v", err)
	}
	b.ID = UniqueID(idPrefix(t))
	b.CgroupParent = "/runo-test-" + RandHex(4)
	b.Spec.Linux.CgroupsPath = b.CgroupParent + "/" + b.ID
	t.Cleanup(func() { RemoveCgroupTree(t, b.CgroupParent) })
	if err := CreateCgroupParent(b.CgroupParent); err != nil {
		t.Fatalf("cgroup parent: %v", err)
	}
	for _, o := range opts {
		o(b)
	}
	if b.Root == "" {
		b.Root = RootDir(t)
	}
	b.WriteSpec()
	return b
}

// idPrefix derives a readable, valid id prefix from the test name.
func idPrefix(t testing.TB) string {
	name := t.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
		if sb.Len() >= 24 {
			break
		}
	}
	return strings.Trim(sb.String(), "-")
}

// WriteSpec (re)writes config.json from b.Spec.
func (b *Bundle) WriteSpec() {
	b.t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		b.t.Fatalf("marshal spec: %v", err)
	}
	b.WriteConfig(data)
}

// WriteConfig writes raw bytes as config.json (for malformed-input tests).
func (b *Bundle) WriteConfig(data []byte) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		b.t.Fatalf("write config.json: %v", err)
	}
}

// Mutate applies fn to the spec and rewrites config.json.
func (b *Bundle) Mutate(fn func(*specs.Spec)) {
	b.t.Helper()
	fn(b.Spec)
	b.WriteSpec()
}

// Command prepares `--root <Root> args...`.
func (b *Bundle) Command(args ...string) *Cmd {
	b.t.Helper()
	return Command(b.t, append([]string{"--root", b.Root}, args...)...)
}

// Runo runs `--root <Root> args...`.
func (b *Bundle) Runo(args ...string) Result {
	b.t.Helper()
	return b.Command(args...).Run()
}

// Create runs `create --bundle Dir ID` plus extra flags.
func (b *Bundle) Create(flags ...string) Result {
	b.t.Helper()
	return b.Runo(append(append([]string{"create", "--bundle", b.Dir}, flags...), b.ID)...)
}

// Run runs `run --bundle Dir ID` (foreground unless flags say -d).
func (b *Bundle) Run(flags ...string) Result {
	b.t.Helper()
	return b.Runo(append(append([]string{"run", "--bundle", b.Dir}, flags...), b.ID)...)
}

// MustCreate creates the container and fails the test on error.
func (b *Bundle) MustCreate(flags ...string) {
	b.t.Helper()
	if r := b.Create(flags...); r.ExitCode != 0 {
		b.t.Fatalf("create %s: exit %d\nstdout: %s\nstderr: %s", b.ID, r.ExitCode, r.Stdout, r.Stderr)
	}
}

// MustRunOK runs the container in the foreground with args and returns its
// stdout, failing the test on a non-zero exit.
func (b *Bundle) MustRunOK(args ...string) string {
	b.t.Helper()
	b.Mutate(func(s *specs.Spec) { s.Process.Args = args })
	r := b.Run()
	if r.ExitCode != 0 {
		b.t.Fatalf("run %q: exit %d\nstdout: %s\nstderr: %s", args, r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// State returns the parsed `state` output.
func (b *Bundle) State() (specs.State, Result) {
	b.t.Helper()
	r := b.Runo("state", b.ID)
	var st specs.State
	if r.ExitCode == 0 {
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
			b.t.Fatalf("parse state %q: %v", r.Stdout, err)
		}
	}
	return st, r
}

// MustStatus asserts the container's status.
func (b *Bundle) MustStatus(want specs.ContainerState) specs.State {
	b.t.Helper()
	st, r := b.State()
	if r.ExitCode != 0 {
		b.t.Fatalf("state %s: exit %d: %s", b.ID, r.ExitCode, r.Stderr)
	}
	if st.Status != want {
		b.t.Fatalf("state %s: status %q, want %q", b.ID, st.Status, want)
	}
	return st
}

// WaitStatus polls `state` until the status is want or timeout passes.
func (b *Bundle) WaitStatus(want specs.ContainerState, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		st, r := b.State()
		if r.ExitCode == 0 && st.Status == want {
			return nil
		}
		last = fmt.Sprintf("status %q exit %d %s", st.Status, r.ExitCode, strings.TrimSpace(r.Stderr))
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("container %s did not reach %q within %v (last: %s)", b.ID, want, timeout, last)
}

// CgroupPath is the spec's cgroupsPath.
func (b *Bundle) CgroupPath() string { return b.Spec.Linux.CgroupsPath }

func removeBundleDir(t testing.TB, dir string) {
	if err := os.RemoveAll(dir); err == nil {
		return
	}
	// A leaked mount under the bundle keeps RemoveAll from finishing; the
	// mounts are ours (under our temp dir), so detach them and report.
	for _, mp := range MountsUnder(dir) {
		t.Errorf("cleanup: mount leaked at %s; detaching", mp)
		detach(mp)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("cleanup: remove %s: %v", dir, err)
	}
}
