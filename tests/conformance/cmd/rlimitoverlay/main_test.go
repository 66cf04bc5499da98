package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDropInit(t *testing.T) {
	src := []byte("package syscall\n\n// raise it\nfunc init() { setrlimit() }\n\nfunc Setrlimit() error { return nil }\n")
	got, err := dropInit(src)
	if err != nil {
		t.Fatalf("dropInit: %v", err)
	}
	if strings.Contains(string(got), "func init") {
		t.Errorf("init kept:\n%s", got)
	}
	if !strings.Contains(string(got), "func Setrlimit") {
		t.Errorf("Setrlimit dropped:\n%s", got)
	}
	if _, err := dropInit([]byte("package syscall\nfunc Setrlimit() {}\n")); err == nil {
		t.Error("dropInit accepted a file without init")
	}
}

func TestWriteAgainstThisToolchain(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatalf("write: %v", err)
	}
	var ov struct{ Replace map[string]string }
	data, err := os.ReadFile(filepath.Join(dir, "overlay.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ov); err != nil {
		t.Fatalf("overlay.json: %v", err)
	}
	orig := filepath.Join(runtime.GOROOT(), "src", "syscall", "rlimit.go")
	if ov.Replace[orig] != filepath.Join(dir, "rlimit.go") {
		t.Fatalf("overlay = %v, want %s replaced", ov.Replace, orig)
	}
	patched, err := os.ReadFile(ov.Replace[orig])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(patched), "func init()") || !strings.Contains(string(patched), "func Setrlimit(") {
		t.Errorf("patched rlimit.go is wrong:\n%s", patched)
	}
}
