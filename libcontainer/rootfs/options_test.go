package rootfs

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []string
		want MountOptions
	}{
		{name: "empty", opts: nil, want: MountOptions{}},
		{
			name: "flags and data",
			opts: []string{"nosuid", "noexec", "nodev", "mode=755", "size=65536k"},
			want: MountOptions{Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, Data: "mode=755,size=65536k"},
		},
		{
			name: "later option wins",
			opts: []string{"ro", "rw"},
			want: MountOptions{ClearFlags: unix.MS_RDONLY},
		},
		{
			name: "set after clear",
			opts: []string{"rw", "ro", "suid"},
			want: MountOptions{Flags: unix.MS_RDONLY, ClearFlags: unix.MS_NOSUID},
		},
		{
			name: "rbind with propagation",
			opts: []string{"rbind", "ro", "rprivate", "slave"},
			want: MountOptions{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, Propagation: []uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SLAVE}},
		},
		{
			name: "atime family",
			opts: []string{"noatime", "nodiratime", "strictatime", "relatime", "norelatime", "atime"},
			want: MountOptions{
				Flags:      unix.MS_NODIRATIME | unix.MS_STRICTATIME,
				ClearFlags: unix.MS_RELATIME | unix.MS_NOATIME,
			},
		},
		{
			name: "misc flags",
			opts: []string{"sync", "dirsync", "mand", "lazytime", "silent", "iversion", "nosymfollow", "remount"},
			want: MountOptions{Flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_LAZYTIME | unix.MS_SILENT | unix.MS_I_VERSION | unix.MS_NOSYMFOLLOW | unix.MS_REMOUNT},
		},
		{
			name: "misc clears",
			opts: []string{"async", "nomand", "nolazytime", "loud", "noiversion", "symfollow", "dev", "exec", "diratime", "nostrictatime"},
			want: MountOptions{ClearFlags: unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_LAZYTIME | unix.MS_SILENT | unix.MS_I_VERSION | unix.MS_NOSYMFOLLOW | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NODIRATIME | unix.MS_STRICTATIME},
		},
		{
			name: "recursive attributes",
			opts: []string{"rbind", "rro", "rnosuid", "rdev", "rnoexec", "rnosymfollow"},
			want: MountOptions{
				Flags:   unix.MS_BIND | unix.MS_REC,
				RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW, Attr_clr: unix.MOUNT_ATTR_NODEV},
			},
		},
		{
			name: "recursive set then clear",
			opts: []string{"rro", "rrw", "rsuid", "rexec", "rdiratime", "rsymfollow"},
			want: MountOptions{RecAttr: &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		},
		{
			name: "recursive atime is an enum",
			opts: []string{"rnoatime", "rnodiratime"},
			want: MountOptions{RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NODIRATIME, Attr_clr: unix.MOUNT_ATTR__ATIME}},
		},
		{
			name: "recursive atime last wins",
			opts: []string{"rnoatime", "rstrictatime"},
			want: MountOptions{RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_STRICTATIME, Attr_clr: unix.MOUNT_ATTR__ATIME}},
		},
		{
			name: "ratime is relatime",
			opts: []string{"rnoatime", "ratime"},
			want: MountOptions{RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RELATIME, Attr_clr: unix.MOUNT_ATTR__ATIME}},
		},
		{
			name: "extensions",
			opts: []string{"tmpcopyup", "ridmap"},
			want: MountOptions{TmpCopyUp: true, IDMap: true},
		},
		{
			name: "idmap",
			opts: []string{"bind", "idmap"},
			want: MountOptions{Flags: unix.MS_BIND, IDMap: true},
		},
		{
			name: "defaults and empty strings are dropped",
			opts: []string{"defaults", "", "newinstance", "ptmxmode=0666"},
			want: MountOptions{Data: "newinstance,ptmxmode=0666"},
		},
		{
			name: "all propagations",
			opts: []string{"private", "shared", "rshared", "rslave", "unbindable", "runbindable"},
			want: MountOptions{Propagation: []uintptr{unix.MS_PRIVATE, unix.MS_SHARED, unix.MS_SHARED | unix.MS_REC, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE, unix.MS_UNBINDABLE | unix.MS_REC}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseMountOptions(tc.opts)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseMountOptions(%q)\n got %+v (rec %+v)\nwant %+v (rec %+v)", tc.opts, got, got.RecAttr, tc.want, tc.want.RecAttr)
			}
		})
	}
}

func TestParseMountOptionsBind(t *testing.T) {
	for _, tc := range []struct {
		opts []string
		bind bool
	}{
		{[]string{"bind"}, true},
		{[]string{"rbind", "ro"}, true},
		{[]string{"ro", "nosuid"}, false},
		{[]string{"bindx"}, false},
	} {
		if got := ParseMountOptions(tc.opts).IsBind(); got != tc.bind {
			t.Errorf("IsBind(%q) = %v, want %v", tc.opts, got, tc.bind)
		}
	}
}

func TestPropagationFlag(t *testing.T) {
	for name, want := range map[string]uintptr{
		"rslave":   unix.MS_SLAVE | unix.MS_REC,
		"private":  unix.MS_PRIVATE,
		"rshared":  unix.MS_SHARED | unix.MS_REC,
		"rprivate": unix.MS_PRIVATE | unix.MS_REC,
	} {
		got, ok := PropagationFlag(name)
		if !ok || got != want {
			t.Errorf("PropagationFlag(%q) = %#x, %v; want %#x", name, got, ok, want)
		}
	}
	if _, ok := PropagationFlag("bogus"); ok {
		t.Error("PropagationFlag(bogus) accepted")
	}
}

func TestCheckProcMount(t *testing.T) {
	for _, tc := range []struct {
		dest, fstype string
		ok           bool
	}{
		{"/proc", "proc", true},
		{"/proc", "tmpfs", false},
		{"/proc/sys", "tmpfs", false},
		{"/proc/kcore", "bind", false},
		{"/proc/cpuinfo", "fuse", true},
		{"/procfoo", "tmpfs", true},
		{"/tmp/proc", "proc", true},
		{"/sys", "sysfs", true},
	} {
		err := checkProcMount(tc.dest, tc.fstype, nil)
		if (err == nil) != tc.ok {
			t.Errorf("checkProcMount(%s, %s) = %v, want ok=%v", tc.dest, tc.fstype, err, tc.ok)
		}
	}
}

// FuzzParseMountOptions checks the invariants of the parser on arbitrary option lists.
func FuzzParseMountOptions(f *testing.F) {
	f.Add("rbind,ro,nosuid,rprivate,rro,mode=755")
	f.Add("rw,ro,dev,nodev,tmpcopyup,ridmap,rnoatime,ratime")
	f.Fuzz(func(t *testing.T, s string) {
		opts := strings.Split(s, ",")
		o := ParseMountOptions(opts)
		if o.Flags&o.ClearFlags != 0 {
			t.Errorf("%q: flags %#x both set and cleared (%#x)", s, o.Flags, o.ClearFlags)
		}
		if o.RecAttr != nil && o.RecAttr.Attr_set&o.RecAttr.Attr_clr&^unix.MOUNT_ATTR__ATIME != 0 {
			t.Errorf("%q: recursive attrs both set and cleared: %+v", s, *o.RecAttr)
		}
		for _, d := range strings.Split(o.Data, ",") {
			if _, known := mountFlagOpts[d]; known {
				t.Errorf("%q: flag option %q leaked into data %q", s, d, o.Data)
			}
			if _, known := propagationOpts[d]; known {
				t.Errorf("%q: propagation %q leaked into data %q", s, d, o.Data)
			}
		}
	})
}
