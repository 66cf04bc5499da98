package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const minimalSpec = `{"ociVersion":"1.0.2","process":{"terminal":true,"args":["sh"],"cwd":"/"},
"root":{"path":"rootfs","readonly":true},"linux":{"namespaces":[{"type":"pid"}],"resources":{"devices":[{"allow":false,"access":"rwm"}]}}}`

func TestWriteBundle(t *testing.T) {
	tests := []struct {
		name  string
		cs    containerSpec
		limit any // expected linux.resources.memory.limit, nil for absent
	}{
		{name: "plain", cs: containerSpec{args: []string{"/bin/true"}, cgroupsPath: "/runo-bench-x/runo-1"}},
		{name: "memory limit", cs: containerSpec{args: []string{"/bin/sleep", "1000"}, cgroupsPath: "/p/c", memoryLimit: 262144}, limit: 262144.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &specTemplate{raw: []byte(minimalSpec), rootfs: "/abs/rootfs"}
			dir := filepath.Join(t.TempDir(), "b")
			if err := tmpl.writeBundle(dir, tc.cs); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Process struct {
					Terminal bool     `json:"terminal"`
					Args     []string `json:"args"`
					Cwd      string   `json:"cwd"`
				} `json:"process"`
				Root struct {
					Path     string `json:"path"`
					Readonly bool   `json:"readonly"`
				} `json:"root"`
				Linux struct {
					CgroupsPath string           `json:"cgroupsPath"`
					Namespaces  []map[string]any `json:"namespaces"`
					Resources   map[string]any   `json:"resources"`
				} `json:"linux"`
			}
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Process.Terminal || !reflect.DeepEqual(cfg.Process.Args, tc.cs.args) || cfg.Process.Cwd != "/" {
				t.Errorf("process = %+v", cfg.Process)
			}
			if cfg.Root.Path != "/abs/rootfs" || !cfg.Root.Readonly {
				t.Errorf("root = %+v", cfg.Root)
			}
			if cfg.Linux.CgroupsPath != tc.cs.cgroupsPath || len(cfg.Linux.Namespaces) != 1 {
				t.Errorf("linux = %+v", cfg.Linux)
			}
			if _, ok := cfg.Linux.Resources["devices"]; !ok {
				t.Errorf("template resources lost: %v", cfg.Linux.Resources)
			}
			var got any
			if mem, ok := cfg.Linux.Resources["memory"].(map[string]any); ok {
				got = mem["limit"]
			}
			if !reflect.DeepEqual(got, tc.limit) {
				t.Errorf("memory limit = %v, want %v", got, tc.limit)
			}
		})
	}
}

func TestMountDiff(t *testing.T) {
	a := []mountEntry{{mountPoint: "/", fsType: "ext4"}, {mountPoint: "/x", fsType: "tmpfs"}, {mountPoint: "/x", fsType: "tmpfs"}}
	b := []mountEntry{{mountPoint: "/", fsType: "ext4"}, {mountPoint: "/x", fsType: "tmpfs"}, {mountPoint: "/y", fsType: "proc"}}
	added, removed := mountDiff(a, b)
	if !reflect.DeepEqual(added, []string{"/y (proc)"}) || !reflect.DeepEqual(removed, []string{"/x (tmpfs)"}) {
		t.Fatalf("added %v removed %v", added, removed)
	}
}
