package cgroups

import (
	"reflect"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

func TestResolveDir(t *testing.T) {
	cases := []struct {
		name         string
		h            hierarchy
		path, id     string
		want, errSub string
	}{
		{"absolute", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/user.slice"}, "/a/b", "id", "/sys/fs/cgroup/memory/a/b", ""},
		{"absolute cleaned", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/"}, "/../../a/./b/", "id", "/sys/fs/cgroup/memory/a/b", ""},
		{"relative to own", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/user.slice/s.scope"}, "a/b", "id", "/sys/fs/cgroup/memory/user.slice/s.scope/a/b", ""},
		{"relative cannot climb", hierarchy{Mountpoint: "/sys/fs/cgroup/pids", Root: "/", Own: "/user.slice"}, "../../etc", "id", "/sys/fs/cgroup/pids/user.slice/etc", ""},
		{"empty uses id under own", hierarchy{Mountpoint: "/sys/fs/cgroup/cpu", Root: "/", Own: "/"}, "", "ctr1", "/sys/fs/cgroup/cpu/ctr1", ""},
		{"empty uses id relative", hierarchy{Mountpoint: "/sys/fs/cgroup", Root: "/", Own: "/system.slice/x.service"}, "", "ctr1", "/sys/fs/cgroup/system.slice/x.service/ctr1", ""},
		{"subtree mount strips root", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/docker/abc", Own: "/docker/abc"}, "inner", "id", "/sys/fs/cgroup/memory/inner", ""},
		{"subtree mount absolute", hierarchy{Mountpoint: "/sys/fs/cgroup", Root: "/docker/abc", Own: "/docker/abc"}, "/docker/abc/x", "id", "/sys/fs/cgroup/x", ""},
		{"root refused", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/"}, "/", "id", "", "root"},
		{"root via dots refused", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/"}, "/a/..", "id", "", "root"},
		{"own refused", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/x"}, "..", "id", "", "own cgroup"},
		{"nothing given", hierarchy{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Own: "/"}, "", "", "", "neither"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveDir(&tc.h, tc.path, tc.id)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("resolveDir = %q, %v; want error containing %q", got, err, tc.errSub)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("resolveDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

const hybridMountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const combinedMountinfo = `25 20 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
90 1 0:23 / /mnt/again rw - cgroup cgroup rw,cpu,cpuacct
`

const unifiedMountinfo = `25 20 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestBuildLayout(t *testing.T) {
	subsys := map[string]bool{"cpu": true, "cpuacct": true, "memory": true, "net_cls": true, "net_prio": true, "pids": true}
	cases := []struct {
		name      string
		root2     bool
		mi, own   string
		mode      layoutMode
		v1        map[string]string // hierarchy key -> mountpoint
		ownOf     map[string]string // hierarchy key -> own cgroup
		unifiedMp string
	}{
		{"hybrid", false, hybridMountinfo, "4:memory:/pa/x\n1:cpu:/\n2:cpuacct:/\n9:name=systemd:/s\n0::/u\n", modeHybrid,
			map[string]string{"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct", "memory": "/sys/fs/cgroup/memory", "name=systemd": "/sys/fs/cgroup/systemd"},
			map[string]string{"memory": "/pa/x", "name=systemd": "/s", "cpu": "/"}, "/sys/fs/cgroup/unified"},
		{"combined v1", false, combinedMountinfo, "3:cpuacct,cpu:/c\n4:net_prio,net_cls:/n\n5:pids:/p\n", modeV1,
			map[string]string{"cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "net_cls,net_prio": "/sys/fs/cgroup/net_cls,net_prio", "pids": "/sys/fs/cgroup/pids"},
			map[string]string{"cpu,cpuacct": "/c", "net_cls,net_prio": "/n"}, ""},
		{"unified", true, unifiedMountinfo, "0::/init.scope\n", modeUnified, map[string]string{}, nil, "/sys/fs/cgroup"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mounts, err := mountinfo.GetMountsFromReader(strings.NewReader(tc.mi), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := buildLayout(tc.root2, mounts, subsys, tc.own)
			if err != nil {
				t.Fatal(err)
			}
			if l.Mode != tc.mode {
				t.Errorf("mode = %v, want %v", l.Mode, tc.mode)
			}
			got := map[string]string{}
			for _, h := range l.V1 {
				got[h.key()] = h.Mountpoint
				if want, ok := tc.ownOf[h.key()]; ok && h.Own != want {
					t.Errorf("own cgroup of %s = %q, want %q", h.key(), h.Own, want)
				}
			}
			if !reflect.DeepEqual(got, tc.v1) {
				t.Errorf("v1 hierarchies = %v, want %v", got, tc.v1)
			}
			if tc.unifiedMp == "" && l.Unified != nil || tc.unifiedMp != "" && (l.Unified == nil || l.Unified.Mountpoint != tc.unifiedMp) {
				t.Errorf("unified = %+v, want mountpoint %q", l.Unified, tc.unifiedMp)
			}
		})
	}
}

// A combined cpu,cpuacct hierarchy is one directory, reachable under both names, and the
// container mount shows it under the host's name with the controller names as symlinks.
func TestV1CombinedHierarchyPaths(t *testing.T) {
	mounts, err := mountinfo.GetMountsFromReader(strings.NewReader(combinedMountinfo), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := buildLayout(false, mounts, map[string]bool{"cpu": true, "cpuacct": true, "net_cls": true, "net_prio": true, "pids": true}, "3:cpu,cpuacct:/\n")
	if err != nil {
		t.Fatal(err)
	}
	m, err := newForLayout(Config{Path: "/x/y"}, l)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	if p["cpu"] != "/sys/fs/cgroup/cpu,cpuacct/x/y" || p["cpuacct"] != p["cpu"] || p["net_prio"] != "/sys/fs/cgroup/net_cls,net_prio/x/y" {
		t.Errorf("Paths = %v", p)
	}
	want := []MountPoint{
		{Source: "/sys/fs/cgroup/cpu,cpuacct/x/y", Dest: "cpu,cpuacct", Symlinks: []string{"cpu", "cpuacct"}},
		{Source: "/sys/fs/cgroup/net_cls,net_prio/x/y", Dest: "net_cls,net_prio", Symlinks: []string{"net_cls", "net_prio"}},
		{Source: "/sys/fs/cgroup/pids/x/y", Dest: "pids"},
	}
	if got := m.MountPoints(); !reflect.DeepEqual(got, want) {
		t.Errorf("MountPoints = %+v\nwant %+v", got, want)
	}
}

func TestNewSystemd(t *testing.T) {
	if _, err := New(Config{Path: "system.slice:runo:x", Systemd: true}); err == nil || !strings.Contains(err.Error(), "systemd cgroup driver is not supported yet") {
		t.Fatalf("New(systemd) = %v", err)
	}
}
