// Package startup tunes the Go runtime for a process that lives a few
// milliseconds; importing it is enough.
//
// The CLI's Go heap is fresh at every start: every first touch of a heap page
// is a page fault. On virtual machines a fault is a trap to the hypervisor
// that costs 10-20 µs, and the CLI touches a few hundred heap pages before it
// exits. MADV_POPULATE_WRITE (Linux 5.14) maps the same pages in a single call
// for 1-8 µs each; this package does it during package initialisation, before
// the bulk of the heap is used. (nsenter.c does the same for the CLI's data
// segment before the runtime starts.) `runo init` is left alone: it execs the
// container's process soon, and every page it has mapped then is one more to
// tear down in execve; populating its heap measured slower.
//
// It also runs the CLI on one P: runo's work is a sequence of system calls,
// and a second P only makes the scheduler start and wake more threads.
// GOMAXPROCS in the environment still wins (init gets GOMAXPROCS=2 there,
// which measured better for it).
//
// The package imports only runtime and syscall, so that it is initialised
// before the rest of the standard library: their package initialisation then
// runs on populated pages too.
package startup

import (
	"runtime"
	"syscall"
	"unsafe"
)

const (
	// madvPopulateWrite is MADV_POPULATE_WRITE from <linux/mman.h>.
	madvPopulateWrite = 23
	// chunk is the unit in which the runtime maps its heap: aligned 4 MiB
	// (pallocChunkBytes). A chunk is mapped whole when the heap grows into it,
	// and not before.
	chunk = 4 << 20
	// heapPage is the runtime's page: spans start on its boundaries.
	heapPage = 8 << 10
	// probe is the size of an allocation that lands at the heap's frontier,
	// where its next spans will be carved: the runtime serves it from the
	// lowest free pages that fit, and it is larger than any hole at start-up
	// (a P's page cache, 64 pages, is the largest). Its pages are never
	// touched: it costs address space, not memory.
	probe = 64 * heapPage
	// below is how far under the probe the populated range starts: the
	// runtime's spans there are partly used, and the P's cached pages (up to
	// 512 KiB under the probe) are handed out before any beyond the frontier.
	below = 512 << 10
	// window is how much heap beyond the frontier the CLI uses (`run` touches
	// about 600 KiB), rounded up; measured as the page faults left without
	// populating. A populated page that stays unused costs a tenth to a half
	// of a fault.
	window = 768 << 10
	// initPipeEnv is set in the environment of `runo init` only (libcontainer's
	// envInitPipe; nsenter.c reads it too). os.Args is not available yet.
	initPipeEnv = "_RUNO_INITPIPE"
)

// sink keeps the compiler from dropping the allocations whose addresses
// populateHeap needs; it is cleared again at once.
var sink []byte

func init() {
	if _, set := syscall.Getenv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(1)
	}
	if _, isInit := syscall.Getenv(initPipeEnv); !isInit {
		populateHeap(window)
	}
}

// populateHeap populates the heap pages the process is about to use.
// Errors (an old kernel, a runtime that lays out its heap differently) only
// cost the optimisation: the pages then fault in one by one as usual.
func populateHeap(window uintptr) {
	for _, r := range plan(alloc(probe), window, alloc) {
		madvise(r[0], r[1])
	}
	sink = nil
}

// plan returns the ranges to populate around a probe allocated at at, to
// cover window bytes of allocation beyond it.
//
// When the window runs past the probe's chunk, the pages beyond it cannot be
// populated: the runtime maps the next chunk only when it needs it, and maps
// it afresh (MAP_FIXED) then. So plan has the runtime map it now, with one
// more allocation (from allocate) that fills the rest of this chunk and
// straddles the boundary; like the probe it is never touched. The heap's
// allocations then continue after it.
func plan(at, window uintptr, allocate func(uintptr) uintptr) [][2]uintptr {
	lo := max(at-below, at&^(chunk-1))
	frontier := at + probe
	end := (frontier + chunk - 1) &^ (chunk - 1) // the mapping ends on a chunk boundary
	if frontier+window <= end {
		return [][2]uintptr{{lo, at}, {frontier, frontier + window}}
	}
	size := end - frontier + probe
	filler := allocate(size)
	if filler != frontier {
		// Not where the heap was going (the runtime changed): populate only what is mapped.
		return [][2]uintptr{{lo, at}, {frontier, end}}
	}
	next := (filler + size + heapPage - 1) &^ (heapPage - 1)
	// The runtime grew the heap by whole chunks, enough for all of the filler.
	mapped := end + (size+chunk-1)&^(chunk-1)
	return [][2]uintptr{{lo, at}, {next, min(next+window, mapped)}}
}
func alloc(size uintptr) uintptr {
	sink = make([]byte, size)
	return uintptr(unsafe.Pointer(unsafe.SliceData(sink)))
}

func madvise(lo, hi uintptr) {
	if hi > lo {
		syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvPopulateWrite)
	}
}
