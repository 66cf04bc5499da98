package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestInitBinaryIsSealedWithoutCopy: a created container's init runs from runo's own binary
// seen through a read-only overlay, not from a memfd copy (the fallback, which costs a copy of
// the binary on every start), and cannot be opened for writing (CVE-2019-5736).
func TestInitBinaryIsSealedWithoutCopy(t *testing.T) {
	if _, err := os.Stat("/sys/module/overlay"); err != nil {
		t.Skip("overlayfs is not available on this kernel: runo falls back to a sealed memfd")
	}
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	b.MustCreate()
	st, _ := b.State()
	exe := fmt.Sprintf("/proc/%d/exe", st.Pid)
	target, err := os.Readlink(exe)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(target, "memfd:") {
		t.Errorf("init runs from %q: the overlay was not used, the binary was copied", target)
	}
	f, err := os.OpenFile(exe, os.O_WRONLY, 0)
	if err == nil {
		f.Close()
		t.Fatalf("init's binary %s can be opened for writing", target)
	}
}
