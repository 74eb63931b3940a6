//go:build !unix

package manifest

import (
	"os"
)

// mapFile reads the file: this platform has no mmap the decoder uses.
func mapFile(f *os.File, size int64) (*mapping, error) {
	data, err := readLimited(f, f.Name(), size)
	if err != nil {
		return nil, err
	}
	return &mapping{data: data}, nil
}

func (m *mapping) done([]byte) {}

func (m *mapping) close() error { return nil }
