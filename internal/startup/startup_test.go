package startup

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// region maps n read-write pages between two PROT_NONE guard pages, so that it is a
// mapping of its own in /proc/self/maps, and returns the first read-write page.
func region(t *testing.T, n int) []byte {
	t.Helper()
	page := unix.Getpagesize()
	m, err := unix.Mmap(-1, 0, (n+2)*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	for _, guard := range [][]byte{m[:page], m[(n+1)*page:]} {
		if err := unix.Mprotect(guard, unix.PROT_NONE); err != nil {
			t.Fatal(err)
		}
	}
	return m[page : (n+1)*page]
}

func resident(t *testing.T, b []byte) []bool {
	t.Helper()
	page := unix.Getpagesize()
	vec := make([]byte, len(b)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out
}

func TestMappingOf(t *testing.T) {
	page := unix.Getpagesize()
	b := region(t, 8)
	base := uintptr(unsafe.Pointer(&b[0]))
	tests := []struct {
		name   string
		addr   uintptr
		wantOK bool
	}{
		{"first page", base, true},
		{"inside", base + uintptr(3*page) + 17, true},
		{"last byte", base + uintptr(8*page) - 1, true},
		{"guard page", base - 1, false},
		{"after the end", base + uintptr(8*page), false},
		{"null", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end, ok := mappingOf(tc.addr)
			if ok != tc.wantOK {
				t.Fatalf("mappingOf(%#x) ok = %v, want %v", tc.addr, ok, tc.wantOK)
			}
			if ok && (start != base || end != base+uintptr(8*page)) {
				t.Fatalf("mappingOf(%#x) = [%#x, %#x), want [%#x, %#x)", tc.addr, start, end, base, base+uintptr(8*page))
			}
		})
	}
}

// TestPopulate checks that pages are really mapped by populate, and only those of the
// window, clipped to the mapping.
func TestPopulate(t *testing.T) {
	page := unix.Getpagesize()
	const pages = 128 // 512 KiB: more than `below` under the sample
	b := region(t, pages)
	for i, r := range resident(t, b) {
		if r {
			t.Fatalf("page %d resident before populate", i)
		}
	}
	base := uintptr(unsafe.Pointer(&b[0]))
	// A sample at page 100: the range starts `below` (64 pages) under it and spans 16 pages.
	populate(base+uintptr(100*page)+8, uintptr(16*page))
	first := 100 - below/page
	for i, r := range resident(t, b) {
		want := i >= first && i < first+16
		if r != want {
			t.Errorf("page %d resident = %v, want %v", i, r, want)
		}
	}
	// A sample near the start: the range is clipped to the mapping, not below it.
	b2 := region(t, 32)
	populate(uintptr(unsafe.Pointer(&b2[0]))+uintptr(2*page), uintptr(8*page))
	for i, r := range resident(t, b2) {
		if want := i < 8; r != want {
			t.Errorf("clipped: page %d resident = %v, want %v", i, r, want)
		}
	}
}
