package security

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// progName is "runo", or "runc" when the suite is pointed at runc.
func progName() string { return filepath.Base(testbundle.Binary()) }

func sh(script string) []string { return []string{"sh", "-c", script} }

// installAttacker copies the static helper into the bundle's rootfs.
func installAttacker(t *testing.T, b *testbundle.Bundle) {
	t.Helper()
	copyFile(t, attackerBin, filepath.Join(b.Rootfs, "bin", "attacker"), 0o755)
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("open %s: %v", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatalf("create %s: %v", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("close %s: %v", dst, err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func setCaps(s *specs.Spec, caps ...string) {
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}
}

func withoutMount(mounts []specs.Mount, dest string) []specs.Mount {
	var out []specs.Mount
	for _, m := range mounts {
		if m.Destination != dest {
			out = append(out, m)
		}
	}
	return out
}

// hostDir makes a fresh host directory (outside every bundle) for a test to
// aim an attack at; it must stay exactly as the test left it.
func hostDir(t *testing.T, name string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "runo-sec-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// listTree lists every path below dir (relative, sorted by walk order).
func listTree(dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func waitFor(path string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// outDir bind-mounts a fresh host directory read-write at /out in the
// container, for the container to report what it saw.
func outDir(t *testing.T, s *specs.Spec) string {
	t.Helper()
	d := hostDir(t, "out")
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: d, Options: []string{"rbind", "rw"}})
	return d
}

// exchanger swaps two paths with renameat2(RENAME_EXCHANGE) in a tight loop on
// a locked thread until stopped: the host-side racer of the symlink-exchange
// attacks. It is bounded by a deadline so a hung test cannot spin forever.
type exchanger struct {
	a, b  string
	stop  atomic.Bool
	swaps atomic.Int64
	wg    sync.WaitGroup
}

func startExchanger(t *testing.T, a, b string, limit time.Duration) *exchanger {
	t.Helper()
	x := &exchanger{a: a, b: b}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		deadline := time.Now().Add(limit)
		for i := 0; !x.stop.Load(); i++ {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err == nil {
				x.swaps.Add(1)
			}
			if i%256 == 0 {
				if time.Now().After(deadline) {
					return
				}
				// Yield now and then: the machine has two cores shared with other work.
				runtime.Gosched()
			}
		}
	}()
	// Leave both paths in their original places whatever happens.
	t.Cleanup(func() { x.Stop() })
	return x
}

// Stop ends the loop, puts both paths back where they started (a swap count
// that is odd leaves them exchanged) and returns the number of swaps.
func (x *exchanger) Stop() int64 {
	x.stop.Store(true)
	x.wg.Wait()
	n := x.swaps.Load()
	if n%2 == 1 {
		if unix.Renameat2(unix.AT_FDCWD, x.a, unix.AT_FDCWD, x.b, unix.RENAME_EXCHANGE) == nil {
			x.swaps.Add(1)
		}
	}
	return n
}

// coreGuard records kernel.core_pattern (a host-global setting that no
// namespace isolates) and restores it after the test, so that a vulnerable
// runtime under test does not leave the host changed.
func coreGuard(t *testing.T) string {
	t.Helper()
	const p = "/proc/sys/kernel/core_pattern"
	before := readFile(t, p)
	t.Cleanup(func() {
		if now, err := os.ReadFile(p); err == nil && string(now) != before {
			os.WriteFile(p, []byte(strings.TrimSuffix(before, "\n")), 0o644)
		}
	})
	return before
}
