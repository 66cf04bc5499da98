package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// busyboxApplets are the only commands the containers run.
var busyboxApplets = []string{"true", "sleep", "sh"}

// buildRootfs lays out a minimal rootfs with Debian's static busybox.
func buildRootfs(dir, busybox string) error {
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create rootfs dir %s: %w", d, err)
		}
	}
	if err := copyFile(busybox, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return fmt.Errorf("link applet %s: %w", a, err)
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close %s: %w", dst, err)
	}
	return nil
}

// specTemplate is the `runc spec` default config, kept as raw JSON so the
// harness needs no runtime-spec types and passes through every default.
type specTemplate struct {
	raw    []byte
	rootfs string
}

// newSpecTemplate runs `<specTool> spec` in an empty dir and keeps the result.
func newSpecTemplate(ctx context.Context, specTool, dir, rootfs string) (*specTemplate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create spec dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, specTool, "spec")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s spec: %w: %s", specTool, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read generated spec: %w", err)
	}
	return &specTemplate{raw: raw, rootfs: rootfs}, nil
}

// containerSpec says what differs between containers.
type containerSpec struct {
	args        []string
	cgroupsPath string
	memoryLimit int64 // bytes; 0 leaves the default (none)
}

// writeBundle writes dir/config.json. All bundles share one read-only rootfs
// by absolute path, so a bundle costs one small file.
func (t *specTemplate) writeBundle(dir string, cs containerSpec) error {
	var cfg map[string]any
	if err := json.Unmarshal(t.raw, &cfg); err != nil {
		return fmt.Errorf("parse spec template: %w", err)
	}
	process, ok := cfg["process"].(map[string]any)
	if !ok {
		return fmt.Errorf("spec template has no process object")
	}
	process["terminal"] = false
	process["args"] = cs.args
	cfg["root"] = map[string]any{"path": t.rootfs, "readonly": true}
	linux, ok := cfg["linux"].(map[string]any)
	if !ok {
		return fmt.Errorf("spec template has no linux object")
	}
	linux["cgroupsPath"] = cs.cgroupsPath
	if cs.memoryLimit > 0 {
		res, _ := linux["resources"].(map[string]any)
		if res == nil {
			res = map[string]any{}
			linux["resources"] = res
		}
		res["memory"] = map[string]any{"limit": cs.memoryLimit}
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create bundle %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	return nil
}
