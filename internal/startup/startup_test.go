package startup

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestPlan(t *testing.T) {
	const base = 0x7000_0000_0000 // a chunk-aligned heap address
	tests := []struct {
		name      string
		at        uintptr
		window    uintptr
		filler    uintptr // where allocate puts the filler
		wantAlloc uintptr // the filler's size, 0 for none
		want      [][2]uintptr
	}{
		{
			name:   "window inside the chunk",
			at:     base + 1<<20,
			window: 1 << 20,
			want:   [][2]uintptr{{base + 1<<20 - below, base + 1<<20}, {base + 1<<20 + probe, base + 2<<20 + probe}},
		},
		{
			name:   "probe near the chunk start: not below the chunk",
			at:     base + 64<<10,
			window: 1 << 20,
			want:   [][2]uintptr{{base, base + 64<<10}, {base + 64<<10 + probe, base + 64<<10 + probe + 1<<20}},
		},
		{
			name:      "window past the chunk: the filler straddles it, the window continues after",
			at:        base + chunk - 1<<20,
			window:    2 << 20,
			filler:    base + chunk - 1<<20 + probe,
			wantAlloc: 1<<20 - probe + probe,
			want: [][2]uintptr{
				{base + chunk - 1<<20 - below, base + chunk - 1<<20},
				{base + chunk + probe, base + chunk + probe + 2<<20},
			},
		},
		{
			name:      "probe ending on the chunk boundary: the filler is the next chunk's start",
			at:        base + chunk - probe,
			window:    1 << 20,
			filler:    base + chunk,
			wantAlloc: probe,
			want:      [][2]uintptr{{base + chunk - probe - below, base + chunk - probe}, {base + chunk + probe, base + chunk + probe + 1<<20}},
		},
		{
			name:      "a window the new chunk cannot hold is cut at its end",
			at:        base + chunk - 1<<20,
			window:    5 << 20,
			filler:    base + chunk - 1<<20 + probe,
			wantAlloc: 1 << 20,
			want: [][2]uintptr{
				{base + chunk - 1<<20 - below, base + chunk - 1<<20},
				{base + chunk + probe, base + 2*chunk},
			},
		},
		{
			name:      "filler elsewhere: only the mapped rest of the chunk",
			at:        base + chunk - 1<<20,
			window:    2 << 20,
			filler:    base + 8*chunk,
			wantAlloc: 1 << 20,
			want:      [][2]uintptr{{base + chunk - 1<<20 - below, base + chunk - 1<<20}, {base + chunk - 1<<20 + probe, base + chunk}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sizes []uintptr
			got := plan(tc.at, tc.window, func(size uintptr) uintptr {
				sizes = append(sizes, size)
				return tc.filler
			})
			if tc.wantAlloc == 0 && len(sizes) != 0 || tc.wantAlloc != 0 && (len(sizes) != 1 || sizes[0] != tc.wantAlloc) {
				t.Errorf("allocations %#x, want one of %#x", sizes, tc.wantAlloc)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("plan = %#x, want %#x", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("range %d = %#x, want %#x", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func resident(t *testing.T, lo, hi uintptr) (in, out int) {
	t.Helper()
	page := uintptr(unix.Getpagesize())
	lo &^= page - 1
	vec := make([]byte, (hi-lo+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatalf("mincore %#x-%#x: %v", lo, hi, e)
	}
	for _, v := range vec {
		if v&1 != 0 {
			in++
		} else {
			out++
		}
	}
	return in, out
}

// TestPopulateLiveHeap runs the plan on a fresh heap, in a child process
// without garbage collection (the test binary's own heap has holes that
// collections left): the ranges are mapped afterwards. Within the chunk they
// may all be mapped already (small spans come from pages the P cached
// earlier, inside what the package's init populated); across the chunk end
// they include fresh pages of the next chunk.
func TestPopulateLiveHeap(t *testing.T) {
	if os.Getenv("STARTUP_TEST_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPopulateLiveHeap$", "-test.v")
		cmd.Env = append(os.Environ(), "STARTUP_TEST_CHILD=1", "GOGC=off")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "fresh pages of the next chunk populated") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	populated := func(ranges [][2]uintptr) (fresh int) {
		for _, r := range ranges {
			_, out := resident(t, r[0], r[1])
			fresh += out
		}
		for _, r := range ranges {
			madvise(r[0], r[1])
			if in, out := resident(t, r[0], r[1]); out != 0 {
				t.Fatalf("range %#x-%#x: %d pages resident, %d not", r[0], r[1], in, out)
			}
		}
		sink = nil
		return fresh
	}
	populated(plan(alloc(probe), 256<<10, alloc))

	// A window past the probe's chunk, which is at most 4 MiB on.
	ranges := plan(alloc(probe), chunk, alloc)
	if len(ranges) != 2 || ranges[1][0]&^(chunk-1) == ranges[0][0]&^(chunk-1) {
		t.Fatalf("plan = %#x: want the second range in the next chunk", ranges)
	}
	if fresh := populated(ranges); fresh > 0 {
		t.Logf("%d fresh pages of the next chunk populated", fresh)
		return
	}
	t.Fatal("no fresh page in the next chunk")
}
