package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestCVE_2019_5736_ProcSelfExeOverwrite: the container replaced one of its
// binaries with "#!/proc/self/exe", so that `runc exec` ran the runc binary
// itself as the container process; a process in the container then opened
// /proc/<that pid>/exe (O_PATH, which the kernel resolves to the host's runc
// file), waited until runc exited (ETXTBSY until then), reopened the handle
// for writing through /proc/self/fd and overwrote the host's runc: the next
// `runc` invocation on the host ran the attacker's code as root.
//
// Reproduction: the runtime under test is a private copy of the binary
// (RUNO_BINARY is pointed at it for this test), hashed before. The
// container's pid 1 is the attacker helper with CAP_SYS_PTRACE (so that the
// runtime's non-dumpable flag does not hide anything: the binary itself must
// be unreachable), scanning /proc/*/exe for any executable that is neither
// itself nor busybox, holding an O_PATH handle on each and reopening it
// O_WRONLY once it is no longer busy; a success writes a marker. Meanwhile
// the test runs `exec` 8 times with /bin/evil (the "#!/proc/self/exe"
// script) and 8 times with `true`. The copy's hash must not change, and no
// write may succeed.
//
// Why it fails without the defence: runo re-executes itself as `runo init`
// only through a detached read-only overlayfs mount of its own directory or
// a sealed memfd (sealedBinary in libcontainer/sealed.go), so /proc/<init>/exe
// names that read-only file, never the host's. If init were executed from
// the host path, the held O_PATH handle would reopen for writing (EROFS
// today) the moment the runtime processes exit, the helper would write
// "PWNED-CVE-2019-5736" into the copy and both the WROTE and the sha256
// assertions would fail. runc 1.1.5 (memfd clone) passes.
func TestCVE_2019_5736_ProcSelfExeOverwrite(t *testing.T) {
	bin := filepath.Join(hostDir(t, "exe"), filepath.Base(testbundle.Binary()))
	copyFile(t, testbundle.Binary(), bin, 0o755)
	t.Setenv("RUNO_BINARY", bin)
	before := sha256File(t, bin)

	var out string
	b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
		out = outDir(t, s)
		s.Process.Args = []string{"/bin/attacker", "exe", "30", "/out/log"}
		setCaps(s, "CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_KILL", "CAP_AUDIT_WRITE")
		s.Process.NoNewPrivileges = false
	}))
	installAttacker(t, b)
	if err := os.WriteFile(filepath.Join(b.Rootfs, "bin", "evil"), []byte("#!/proc/self/exe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := b.Run("-d"); r.ExitCode != 0 {
		t.Fatalf("run -d: exit %d: %s", r.ExitCode, r.Stderr)
	}
	for i := 0; i < 8; i++ {
		b.Runo("exec", b.ID, "/bin/evil")
		b.Runo("exec", b.ID, "true")
	}
	log := filepath.Join(out, "log")
	// Every runtime process has exited now: give the attacker time to retry
	// its held handles (busy until now), then stop it.
	time.Sleep(time.Second)
	if err := os.WriteFile(log+".stop", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(readFileOr(log), "DONE") {
		time.Sleep(100 * time.Millisecond)
	}
	text := readFileOr(log)
	t.Logf("attacker log:\n%s", text)
	if !strings.Contains(text, "DONE") {
		t.Fatalf("the attacker did not finish")
	}
	if strings.Contains(text, "WROTE") {
		t.Errorf("the container opened a runtime executable for writing")
	}
	if after := sha256File(t, bin); after != before {
		t.Errorf("the host runtime binary changed: sha256 %s -> %s", before, after)
	}
	// Non-vacuity: the attack must have had a runtime executable in hand.
	if !strings.Contains(text, "SEEN") {
		t.Errorf("the attacker never caught a runtime process in /proc: the attack was not exercised")
	}
}

func readFileOr(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
