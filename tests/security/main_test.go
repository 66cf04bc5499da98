// Package security runs malicious bundles against the runtime binary
// ($RUNO_BINARY, default bin/runo), one test per attack class of the
// container-breakout CVEs that hit runc and crun. Each test reproduces what
// the real exploit did and asserts on the host-visible outcome (a file, a
// hash, a directory listing, a kernel setting), so it fails when the defence
// is missing, not merely when an error message changes.
//
// Every test also runs against runc (RUNO_BINARY=/usr/sbin/runc): runc 1.1.5
// predates the 2024-2026 fixes and is the "defence removed" control for
// those classes; see the per-test comments for which ones it fails.
package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/runo-dev/runo/tests/testbundle"
)

// attackerBin is the static in-container helper built once by TestMain.
var attackerBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := testbundle.Binary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("RUNO_REQUIRE_BINARY") == "" {
			fmt.Printf("SKIP security tests: runtime binary %s not found (run `make build`, or set RUNO_BINARY)\n", bin)
			return 0
		}
		fmt.Fprintf(os.Stderr, "security tests: runtime binary %s: %v (RUNO_REQUIRE_BINARY is set)\n", bin, err)
		return 1
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "security tests must run as root: containers use real namespaces, mounts and cgroups")
		return 1
	}
	dir, err := os.MkdirTemp("", "runo-security-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "security tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	attackerBin = filepath.Join(dir, "attacker")
	build := exec.Command("go", "build", "-o", attackerBin, "./attacker")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "security tests: build attacker helper: %v\n%s", err, out)
		return 1
	}
	// A file that exists only on the host's "/": any container that can read
	// it has reached the host root.
	marker := hostRootMarker()
	if err := os.WriteFile(marker, []byte("host root\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "security tests: host marker:", err)
		return 1
	}
	defer os.Remove(marker)
	return m.Run()
}

// hostRootMarker is the path (on the host and as seen from "/") of the file
// that only the host root has.
func hostRootMarker() string {
	return fmt.Sprintf("/.runo-security-host-root-%d", os.Getpid())
}
