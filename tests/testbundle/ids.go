package testbundle

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// RandHex returns n random bytes hex-encoded.
func RandHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand cannot fail on Linux ≥ 3.17; a constant keeps ids valid.
		return "0000"
	}
	return hex.EncodeToString(b)
}

// UniqueID returns a container id that no other test uses.
func UniqueID(prefix string) string {
	if prefix == "" {
		prefix = "t"
	}
	return prefix + "-" + RandHex(5)
}

// RootDir returns a fresh per-test state directory for --root. Cleanup
// force-deletes every container still recorded there, then removes it.
func RootDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "runo-root-")
	if err != nil {
		t.Fatalf("root dir: %v", err)
	}
	t.Cleanup(func() { ForceDeleteAll(t, dir) })
	return dir
}

// ForceDeleteAll runs `delete -f` for every container whose state lives in
// root and removes root. Containers are found from the directory itself so
// this still works when `list` is broken.
func ForceDeleteAll(t testing.TB, root string) {
	t.Helper()
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := Command(t, "--root", root, "delete", "-f", e.Name())
		if r := c.Run(); r.ExitCode != 0 {
			t.Logf("cleanup: delete -f %s: exit %d: %s", e.Name(), r.ExitCode, r.Stderr)
		}
	}
	if err := os.RemoveAll(root); err != nil {
		t.Logf("cleanup: remove %s: %v", root, err)
	}
}
