package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// raceRuns is how many containers each race test creates while the racer
// swaps; raceLimit bounds the racer whatever happens.
const (
	raceRuns  = 12
	raceLimit = 60 * time.Second
)

type raceResult struct {
	ok, failed int
	swaps      int64
	outputs    []string
}

// raceBundle prepares rootfs/mnt/race (a directory) and rootfs/mnt/race-link
// (a symlink to linkTarget), lets mutate add the mounts aimed below
// /mnt/race, and runs raceRuns containers while a host thread exchanges the
// two names with renameat2(RENAME_EXCHANGE).
func raceBundle(t *testing.T, linkTarget, probe string, mutate func(b *testbundle.Bundle, s *specs.Spec)) raceResult {
	t.Helper()
	b := testbundle.New(t)
	b.Mutate(func(s *specs.Spec) {
		s.Process.Args = sh(probe)
		mutate(b, s)
	})
	dir := filepath.Join(b.Rootfs, "mnt", "race")
	link := filepath.Join(b.Rootfs, "mnt", "race-link")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(linkTarget, link); err != nil {
		t.Fatal(err)
	}
	x := startExchanger(t, dir, link, raceLimit)
	var res raceResult
	for i := 0; i < raceRuns; i++ {
		r := b.Run()
		if r.ExitCode == 0 {
			res.ok++
		} else {
			res.failed++
			if res.failed <= 3 {
				t.Logf("run %d refused: %s", i, firstLine(r.Stderr))
			}
		}
		res.outputs = append(res.outputs, r.Stdout)
		// A failed create can leave the container recorded; clear it for the
		// next round under the same id.
		b.Runo("delete", "-f", b.ID)
	}
	res.swaps = x.Stop()
	t.Logf("%s: %d containers ran, %d failed to start, %d exchanges", progName(), res.ok, res.failed, res.swaps)
	if res.swaps == 0 {
		t.Fatalf("the racer never exchanged %s and %s: the test did not race", dir, link)
	}
	return res
}

// hostRootEntries lists names in the host's "/" that start with prefix.
func hostRootEntries(t *testing.T, prefix string) []string {
	t.Helper()
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
			// Remove what a vulnerable runtime left (only names this test made up).
			os.RemoveAll("/" + e.Name())
		}
	}
	return out
}

// TestCVE_2021_30465_MountDestinationSymlinkExchange: runc resolved a mount
// destination with securejoin into a path string and called mount(2) on that
// string later. A container sharing a volume with the new one swapped a
// directory on the destination's path with a symlink to "/" in a loop, and
// when the swap fell between the check and the mount, the kernel followed the
// symlink with the runtime's (host) view: the mount landed outside the
// rootfs, and the exploit got the host's root filesystem into a container.
//
// Reproduction: the test itself is the racer (renameat2 RENAME_EXCHANGE of
// rootfs/mnt/race and a symlink to "/", in a loop), while raceRuns containers
// are run with 16 bind mounts and 4 tmpfs mounts under /mnt/race. No
// container may see the host-root marker anywhere it looks (its mount points,
// "/" to depth 4), and no mount destination may appear in the host's "/". (Where a
// volume lands inside the container depends on the swap state, since a
// symlink to "/" legitimately means the container's root; that is not checked.)
//
// Why it fails without the defence: runo opens every destination once with
// openat2(RESOLVE_IN_ROOT) (or securejoin's fd-based walk), mounts onto that
// fd through /proc/self/fd, and re-checks the fd's real path and mount id
// afterwards (root.check, reopenMounted in libcontainer/rootfs). A path-based
// mount after a path-based check lets a swap in between send "/mnt/race/x"
// to the host's "/x": the directory is created there and the
// hostRootEntries assertion fails. runc 1.1.5 has the fd-based mount (the
// CVE's fix) but still creates the destination with os.MkdirAll on the
// resolved string, so it can fail the host-"/" assertion when the race hits
// (that is CVE-2024-45310).
func TestCVE_2021_30465_MountDestinationSymlinkExchange(t *testing.T) {
	prefix := "runo-race-" + testbundle.RandHex(4)
	marker := hostRootMarker()[1:]
	probe := fmt.Sprintf(`for d in /mnt/race/%[1]s*; do [ -e "$d/%[2]s" ] && echo "HOSTROOT $d"; done
find / -maxdepth 4 \( -path /proc -o -path /sys \) -prune -o -name %[2]s -print | sed 's/^/HOSTROOT /'
true`, prefix, marker)
	res := raceBundle(t, "/", probe, func(b *testbundle.Bundle, s *specs.Spec) {
		vol := filepath.Join(b.Dir, "vol")
		if err := os.Mkdir(vol, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vol, "volume-marker"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 16; i++ {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: fmt.Sprintf("/mnt/race/%s-v%d", prefix, i), Type: "bind", Source: vol, Options: []string{"rbind", "ro"}})
		}
		for i := 0; i < 4; i++ {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: fmt.Sprintf("/mnt/race/%s-t%d", prefix, i), Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
		}
	})
	for i, out := range res.outputs {
		if strings.Contains(out, "HOSTROOT") {
			t.Errorf("container %d saw the host root:\n%s", i, out)
		}
	}
	if got := hostRootEntries(t, prefix); len(got) > 0 {
		t.Errorf("mount destinations were created in the host's /: %q", got)
	}
}

// TestCVE_2024_45310_MkdirAllRace: runc created missing mount destinations
// with os.MkdirAll on the securejoin'ed path string; swapping a parent
// directory for a symlink to a host directory between the resolution and the
// mkdir made runc create empty directories (and, for file bind mounts, empty
// files) on the host, as root, wherever the attacker pointed.
//
// Reproduction: the host test swaps rootfs/mnt/race with a symlink to a host
// directory H in a loop while raceRuns containers are created with 12 nested
// directory destinations and 6 file destinations below /mnt/race. H must
// stay empty.
//
// Why it fails without the defence: runo creates destinations with
// securejoin's MkdirAllHandle and openat(O_CREAT|O_EXCL|O_NOFOLLOW) on a
// directory fd resolved inside the root (root.mkdirAll, root.createFile in
// libcontainer/rootfs/secure.go), never by path. A path-based MkdirAll
// follows the swapped-in symlink and leaves directories in H: the listTree
// assertion fails. runc 1.1.5 is vulnerable to this CVE.
func TestCVE_2024_45310_MkdirAllRace(t *testing.T) {
	h := hostDir(t, "mkdirall")
	if err := os.Chmod(h, 0o755); err != nil {
		t.Fatal(err)
	}
	raceBundle(t, h, "true", func(b *testbundle.Bundle, s *specs.Spec) {
		vol := filepath.Join(b.Dir, "vol")
		file := filepath.Join(b.Dir, "volfile")
		if err := os.Mkdir(vol, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: fmt.Sprintf("/mnt/race/d%d/sub/dir", i), Type: "bind", Source: vol, Options: []string{"rbind"}})
		}
		for i := 0; i < 6; i++ {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: fmt.Sprintf("/mnt/race/f%d/file", i), Type: "bind", Source: file, Options: []string{"bind"}})
		}
	})
	if got := listTree(h); len(got) > 0 {
		t.Errorf("the runtime created %d entries in the host directory behind the swapped symlink: %q", len(got), got)
	}
}
