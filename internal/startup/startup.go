// Package startup tunes the Go runtime for a process that lives a few
// milliseconds; importing it is enough.
//
// runo is started twice per container (the CLI and `runo init`), and each
// time its Go heap is fresh: every first touch of a heap page is a page fault.
// On virtual machines a fault is a trap to the hypervisor that costs 10-20 µs,
// and a Go process touches a few hundred heap pages before it exits.
// MADV_POPULATE_WRITE (Linux 5.14) maps the same pages in a single call for
// under 1 µs each; this package does it during package initialisation, before
// the bulk of the heap is used. (nsenter.c does the same for the data segment
// before the runtime starts.)
//
// It also runs the CLI on one P: runo's work is a sequence of system calls,
// and a second P only makes the scheduler start and wake more threads.
// GOMAXPROCS in the environment still wins.
package startup

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

const (
	// madvPopulateWrite is MADV_POPULATE_WRITE from <linux/mman.h>.
	madvPopulateWrite = 23
	// below is how far under a fresh allocation the populated range starts:
	// the heap grows upwards from a random base, and the spans under the sample
	// were mostly touched already by the runtime's own start-up.
	below = 256 << 10
	// cliWindow and initWindow are how much heap the CLI (`run` touches
	// about 1.3 MiB from the sample up) and `runo init` (about 1 MiB) use,
	// rounded up. Populating a page that stays unused costs far less than
	// one fault.
	cliWindow  = 2 << 20
	initWindow = 3 << 19
)

// sample is assigned a fresh allocation; being a package variable keeps the
// allocation on the heap.
var sample *[2]uintptr

func init() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	sample = new([2]uintptr)
	window := uintptr(cliWindow)
	if len(os.Args) > 1 && os.Args[1] == "init" {
		window = initWindow
	}
	populate(uintptr(unsafe.Pointer(sample)), window)
}

// populate maps [addr-below, addr-below+window) of the read-write mapping
// holding addr. Errors (an old kernel, an odd mapping) only cost the
// optimisation: the pages then fault in one by one as usual.
func populate(addr, window uintptr) {
	// The Go runtime maps its heap read-write in aligned 4 MiB chunks: try the chunk
	// holding addr first, which needs no look at /proc/self/maps (reading it costs
	// about 0.2 ms). A range that is not all read-write fails and leaves the maps way.
	const chunk = 4 << 20
	base := addr &^ (chunk - 1)
	if populateRange(addr, window, base, base+chunk) == nil {
		return
	}
	if start, end, ok := mappingOf(addr); ok {
		populateRange(addr, window, start, end)
	}
}

// populateRange populates [addr-below, addr-below+window) clipped to [start, end).
func populateRange(addr, window, start, end uintptr) error {
	lo := start
	if page := addr &^ uintptr(os.Getpagesize()-1); page-start > below {
		lo = page - below
	}
	hi := min(end, lo+window)
	if hi <= lo {
		return nil
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvPopulateWrite); e != 0 {
		return e
	}
	return nil
}

// mappingOf finds the private read-write mapping holding addr in
// /proc/self/maps.
func mappingOf(addr uintptr) (start, end uintptr, ok bool) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, 0, false
	}
	for line := range bytes.SplitSeq(maps, []byte{'\n'}) {
		fields := bytes.Fields(line)
		if len(fields) < 2 || string(fields[1]) != "rw-p" {
			continue
		}
		lo, hi, found := bytes.Cut(fields[0], []byte{'-'})
		if !found {
			continue
		}
		s, err1 := strconv.ParseUint(string(lo), 16, 64)
		e, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 == nil && err2 == nil && uintptr(s) <= addr && addr < uintptr(e) {
			return uintptr(s), uintptr(e), true
		}
	}
	return 0, 0, false
}
