//go:build unix

package manifest

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file into memory read-only instead of copying it
// onto the heap: its pages belong to the kernel's page cache, so they do
// not count towards the garbage collector's heap goal (a 70 MB dump held
// on the heap lets the heap grow by as much again before a collection),
// and the pages the decoder is done with are handed back (mapping.done)
// rather than held until the whole file is decoded. The decoder reads the
// bytes exactly as it would read a copy.
func mapFile(f *os.File, size int64) (*mapping, error) {
	if size == 0 {
		return &mapping{}, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return &mapping{data: data, mapped: true}, nil
}

// done says the decoder is done, for now, with the bytes of b (a part of
// m.data): the whole pages among them leave the process's memory, and come
// back from the page cache if they are read again.
func (m *mapping) done(b []byte) {
	if m == nil || !m.mapped || len(b) == 0 || len(m.data) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if start < base || start+uintptr(len(b)) > base+uintptr(len(m.data)) {
		return
	}
	page := uintptr(os.Getpagesize())
	from := (start - base + page - 1) / page * page
	to := (start - base + uintptr(len(b))) / page * page
	if to <= from {
		return
	}
	// Advice only: on failure the pages simply stay.
	_ = unix.Madvise(m.data[from:to], unix.MADV_DONTNEED)
}

// close unmaps the file. Nothing may use m.data after it.
func (m *mapping) close() error {
	if m == nil || !m.mapped {
		return nil
	}
	m.mapped = false
	data := m.data
	m.data = nil
	return unix.Munmap(data)
}
