// Command rlimitoverlay writes a `go build -overlay` file that builds
// runtimetest without the Go runtime's start-up RLIMIT_NOFILE raise.
//
// Since Go 1.19, package syscall's init raises the soft RLIMIT_NOFILE of
// every Go program to (hard - 1). runtimetest (written for older Go) reads
// its own limits to check what the runtime configured, so when built with a
// current toolchain it always sees a soft limit of hard-1 and the
// process_rlimits program fails for every runtime. The overlay replaces
// GOROOT/src/syscall/rlimit.go by a copy whose init function is removed;
// everything else in the file (Setrlimit, origRlimitNofile) is kept, so
// the rest of the standard library builds unchanged.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	out := flag.String("o", "", "directory to write rlimit.go and overlay.json into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "rlimitoverlay: -o is required")
		os.Exit(2)
	}
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "rlimitoverlay:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	orig := filepath.Join(runtime.GOROOT(), "src", "syscall", "rlimit.go")
	src, err := os.ReadFile(orig)
	if err != nil {
		return fmt.Errorf("read %s: %w", orig, err)
	}
	patched, err := dropInit(src)
	if err != nil {
		return fmt.Errorf("%s: %w", orig, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, "rlimit.go"))
	if err != nil {
		return fmt.Errorf("overlay path: %w", err)
	}
	if err := os.WriteFile(abs, patched, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", abs, err)
	}
	overlay, err := json.MarshalIndent(map[string]map[string]string{"Replace": {orig: abs}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode overlay: %w", err)
	}
	p := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(p, append(overlay, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// dropInit removes the file's init functions and fails if there was none,
// so that a toolchain which moved the raise elsewhere is noticed.
func dropInit(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "rlimit.go", src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	kept := f.Decls[:0]
	removed := 0
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "init" {
			removed++
			continue
		}
		kept = append(kept, d)
	}
	if removed == 0 {
		return nil, fmt.Errorf("no init function found: the RLIMIT_NOFILE raise moved, update rlimitoverlay")
	}
	f.Decls = kept
	// Comments of the removed function would be left dangling; drop them
	// all, they are not needed to compile.
	f.Comments = nil
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return b.Bytes(), nil
}
