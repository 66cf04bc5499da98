// Package image builds the test images from Debian's busybox-static without
// any registry: a single-layer root filesystem written as a tar stream, and an
// archive that is at once an OCI image layout (oci-layout, index.json,
// blobs/sha256) and a docker-archive (manifest.json), so `podman load`,
// `docker load` and `ctr image import` all accept the same file.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// epoch is the mtime of every entry: a fixed time keeps the layer digest
// stable across builds, so engines can cache by digest.
var epoch = time.Unix(1700000000, 0).UTC()

// Users baked into /etc/passwd; scenarios refer to them by name.
const (
	UserName = "runo"
	UserUID  = 1000
	UserGID  = 1000
)

const passwd = `root:x:0:0:root:/root:/bin/sh
runo:x:1000:1000:runo:/home/runo:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`

const group = `root:x:0:
runo:x:1000:
nogroup:x:65534:
`

// Applets lists the applets of a busybox binary by running `busybox --list`.
func Applets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		// An applet name is a plain file name; anything else would escape /bin.
		if l == "" || l == "busybox" || strings.ContainsAny(l, "/\x00") || l == "." || l == ".." {
			continue
		}
		names = append(names, l)
	}
	sort.Strings(names)
	return names, nil
}

// RootfsLayer returns an uncompressed tar of a minimal root filesystem: the
// static busybox at /bin/busybox, one symlink per applet, passwd/group with
// root, runo (1000:1000) and nobody, and the usual empty mount points. /etc/hosts,
// /etc/resolv.conf and /etc/hostname are left out on purpose: the runtime
// must create the targets of the engine's bind mounts itself.
func RootfsLayer(busybox string) ([]byte, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read busybox %s: %w", busybox, err)
	}
	applets, err := Applets(busybox)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []struct {
		name string
		mode int64
	}{
		{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"home", 0o755},
		{"home/runo", 0o755}, {"proc", 0o555}, {"root", 0o700}, {"sbin", 0o755},
		{"sys", 0o555}, {"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755},
		{"var", 0o755},
	}
	for _, d := range dirs {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: d.name + "/", Mode: d.mode, ModTime: epoch, Format: tar.FormatPAX}
		if d.name == "home/runo" {
			h.Uid, h.Gid = UserUID, UserGID
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar dir %s: %w", d.name, err)
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"bin/busybox", 0o755, bin},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"etc/group", 0o644, []byte(group)},
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar file %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("tar file %s: %w", f.name, err)
		}
	}
	for _, a := range applets {
		h := &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar applet %s: %w", a, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close rootfs tar: %w", err)
	}
	return buf.Bytes(), nil
}

// tarFile appends one regular file to an archive writer.
func tarFile(tw *tar.Writer, name string, data []byte) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if _, err := io.Copy(tw, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	return nil
}
