package suite

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The wrapper must hand every global flag and sub-command argument to the
// runtime verbatim, whatever characters they hold.
func TestWrapperScriptPassesArgumentsVerbatim(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-runtime")
	out := filepath.Join(dir, "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + shellQuote(out) + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "wrapper")
	global := []string{"--root", "/run/it's here", "--log-format=json"}
	if err := os.WriteFile(wrapper, []byte(wrapperScript(fake, global)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(wrapper, "state", "id with space", "$HOME").Run(); err != nil {
		t.Fatalf("run wrapper: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	want := append(append([]string(nil), global...), "state", "id with space", "$HOME")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runtime saw %q, want %q", got, want)
	}
}

func TestPrograms(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"kill": 0o755, "create": 0o755, "README": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Programs(dir)
	if err != nil {
		t.Fatalf("Programs: %v", err)
	}
	if want := []string{"create", "kill"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Programs = %q, want %q", got, want)
	}
	if _, err := Programs(t.TempDir()); err == nil {
		t.Error("Programs of an empty dir succeeded")
	}
}

func TestPlaceFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("payload"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if err := placeFile(src, dst); err != nil {
		t.Fatalf("placeFile: %v", err)
	}
	info, err := os.Lstat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Mode().IsRegular() {
		t.Errorf("dst mode %v, want a regular file (fileutils.CopyFile recreates symlinks)", info.Mode())
	}
	if data, _ := os.ReadFile(dst); string(data) != "payload" {
		t.Errorf("dst holds %q", data)
	}
	if err := placeFile(filepath.Join(dir, "missing"), filepath.Join(dir, "x")); err == nil {
		t.Error("placeFile of a missing source succeeded")
	}
}
