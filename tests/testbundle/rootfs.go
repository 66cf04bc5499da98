package testbundle

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// Applets are the busybox applets linked into every test rootfs.
var Applets = []string{
	"sh", "ls", "cat", "echo", "sleep", "true", "false", "id", "grep", "mount",
	"readlink", "stat", "mkdir", "touch", "hostname", "kill", "ps", "env", "pwd",
	"head", "tail", "wc", "test", "[", "seq", "tty", "uname", "printf",
	"rm", "ln", "cp", "mv", "chmod", "date", "dd", "sed", "tr", "cut", "sort",
	"uniq", "whoami", "nproc", "timeout", "awk", "find", "xargs",
	"nc", "ip", "ifconfig", "df", "dmesg", "stty", "yes", "basename", "dirname",
}

// BuildRootfs lays out a minimal busybox rootfs at dir.
func BuildRootfs(dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt", "run", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		if err := os.Chmod(filepath.Join(dir, d), 0o1777); err != nil {
			return fmt.Errorf("chmod %s: %w", d, err)
		}
	}
	if err := copyFile(BusyboxPath, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range Applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return fmt.Errorf("link applet %s: %w", a, err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":  "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
		"etc/hosts":  "127.0.0.1 localhost\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s (install busybox-static: make deps): %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
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
