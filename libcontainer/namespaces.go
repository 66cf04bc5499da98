package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsFlags maps each runtime-spec namespace type to its clone flag and /proc/<pid>/ns name.
var nsFlags = map[specs.LinuxNamespaceType]struct {
	flag uintptr
	proc string
}{
	specs.PIDNamespace:     {unix.CLONE_NEWPID, "pid"},
	specs.NetworkNamespace: {unix.CLONE_NEWNET, "net"},
	specs.MountNamespace:   {unix.CLONE_NEWNS, "mnt"},
	specs.IPCNamespace:     {unix.CLONE_NEWIPC, "ipc"},
	specs.UTSNamespace:     {unix.CLONE_NEWUTS, "uts"},
	specs.UserNamespace:    {unix.CLONE_NEWUSER, "user"},
	specs.CgroupNamespace:  {unix.CLONE_NEWCGROUP, "cgroup"},
	specs.TimeNamespace:    {unix.CLONE_NEWTIME, "time"},
}

// nsOrder is the order in which `runo exec` lists a container's namespaces to join.
var nsOrder = []specs.LinuxNamespaceType{
	specs.UserNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace,
	specs.PIDNamespace, specs.MountNamespace, specs.CgroupNamespace, specs.TimeNamespace,
}

// hasNamespace reports whether the spec lists namespace t (new or joined).
func hasNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	return findNamespace(spec, t) != nil
}

// hasNewNamespace reports whether the spec creates a new namespace of type t.
func hasNewNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	ns := findNamespace(spec, t)
	return ns != nil && ns.Path == ""
}

func findNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) *specs.LinuxNamespace {
	if spec.Linux == nil {
		return nil
	}
	for i := range spec.Linux.Namespaces {
		if spec.Linux.Namespaces[i].Type == t {
			return &spec.Linux.Namespaces[i]
		}
	}
	return nil
}

// checkNamespacePath verifies that path is a namespace of type t (ioctl NS_GET_NSTYPE).
func checkNamespacePath(t specs.LinuxNamespaceType, path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.namespaces: %s namespace path %s: %w", t, path, err)
	}
	defer unix.Close(fd)
	got, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("linux.namespaces: %s namespace path %s is not a namespace: %w", t, path, err)
	}
	if uintptr(got) != nsFlags[t].flag {
		return fmt.Errorf("linux.namespaces: path %s is not a %s namespace", path, t)
	}
	return nil
}
