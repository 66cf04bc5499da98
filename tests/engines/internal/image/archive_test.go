package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTar(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

func TestRootfsLayer(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("no /bin/busybox (busybox-static not installed)")
	}
	layer, err := RootfsLayer("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	entries := readTar(t, layer)
	if h := entries["bin/busybox"]; h == nil || h.Mode&0o111 == 0 {
		t.Fatalf("bin/busybox missing or not executable: %+v", h)
	}
	if h := entries["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
		t.Fatalf("bin/sh is not a symlink to busybox: %+v", h)
	}
	if h := entries["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Fatalf("tmp/ mode: %+v", h)
	}
	again, err := RootfsLayer("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(layer, again) {
		t.Fatal("layer is not reproducible")
	}
}

func TestWriteArchive(t *testing.T) {
	layer := []byte("not really a tar, but a blob all the same")
	path := filepath.Join(t.TempDir(), "img.tar")
	specs := []Spec{{Ref: "localhost/a:latest", Cmd: []string{"sh"}}, {Ref: "localhost/b:v1", Entrypoint: []string{"/bin/sleep"}}}
	if err := WriteArchive(path, layer, specs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	// Every blob is stored under its own sha256.
	for name, b := range files {
		if !strings.HasPrefix(name, "blobs/sha256/") || strings.HasSuffix(name, "/") {
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != strings.TrimPrefix(name, "blobs/sha256/") {
			t.Errorf("blob %s has digest %x", name, sum)
		}
	}
	var idx index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 2 || idx.Manifests[1].Annotations["io.containerd.image.name"] != "localhost/b:v1" ||
		idx.Manifests[1].Annotations["org.opencontainers.image.ref.name"] != "v1" {
		t.Fatalf("index: %+v", idx)
	}
	var m manifest
	if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(idx.Manifests[1].Digest, "sha256:")], &m); err != nil {
		t.Fatal(err)
	}
	var cfg config
	if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(m.Config.Digest, "sha256:")], &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/bin/sleep" || cfg.RootFS.DiffIDs[0] != m.Layers[0].Digest {
		t.Fatalf("config %+v / manifest %+v", cfg, m)
	}
	var docker []dockerEntry
	if err := json.Unmarshal(files["manifest.json"], &docker); err != nil {
		t.Fatal(err)
	}
	for _, d := range docker {
		if files[d.Config] == nil || files[d.Layers[0]] == nil {
			t.Errorf("manifest.json points at missing files: %+v", d)
		}
	}
	if !bytes.Equal(files[docker[0].Layers[0]], layer) {
		t.Error("layer blob differs from the input")
	}
	if err := WriteArchive(path, layer, specs); err == nil {
		t.Error("overwriting an existing archive must fail")
	}
	if err := WriteArchive(path+"2", layer, []Spec{{Ref: "no-tag"}}); err == nil {
		t.Error("a ref without a tag must fail")
	}
}
