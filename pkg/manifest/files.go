package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// Stdin is the path that means "read standard input", as in kubectl.
const Stdin = "-"

// manifestExtensions are the file endings read when walking a directory,
// the same set kubectl reads.
var manifestExtensions = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// ReadPaths decodes every manifest named by paths: files, directories (their
// manifest files; subdirectories too when recursive) and "-" for stdin.
// Files named explicitly are read whatever their extension. Any failure
// stops the read: an audit of half the input would look complete.
func ReadPaths(paths []string, recursive bool, stdin io.Reader) ([]Object, error) {
	var out []Object
	err := WalkPaths(paths, recursive, stdin, func(o Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WalkPaths is ReadPaths handing each object to fn as it is decoded (see
// DecodeEach), so that the caller need not hold every decoded object at
// once. On error, the objects fn received are to be dropped.
func WalkPaths(paths []string, recursive bool, stdin io.Reader, fn func(Object) error) error {
	return WalkPathsWith(paths, recursive, stdin, WalkOptions{}, fn)
}

// WalkOptions tunes WalkPathsWith.
type WalkOptions struct {
	// Raw hands on the items of Lists as Object.Raw where it can, with
	// only their header decoded: a caller that converts each object to its
	// type anyway then decodes it once, from the JSON, instead of into
	// maps first.
	Raw bool
}

// WalkPathsWith is WalkPaths with options.
func WalkPathsWith(paths []string, recursive bool, stdin io.Reader, opts WalkOptions, fn func(Object) error) error {
	stdinRead := false
	for _, p := range paths {
		if p == Stdin {
			if stdinRead {
				return errors.New("standard input (-) given more than once")
			}
			stdinRead = true
			data, err := readLimited(stdin, "standard input", 0)
			if err != nil {
				return err
			}
			if err := decodeEach(data, Stdin, opts.Raw, nil, fn); err != nil {
				return err
			}
			continue
		}
		files, err := expandPath(p, recursive)
		if err != nil {
			return err
		}
		for _, f := range files {
			m, err := readFile(f)
			if err != nil {
				return err
			}
			err = decodeMapped(m, f, opts.Raw, fn)
			if cerr := m.close(); err == nil && cerr != nil {
				err = fmt.Errorf("read %s: %w", f, cerr)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// mapping is a file's bytes, mapped into memory (mapFile) or read.
type mapping struct {
	data   []byte
	mapped bool
}

// decodeMapped decodes a file read by readFile. A mapped file that shrinks
// while it is decoded (another program truncating it) makes reading its
// lost pages fault: that is an error naming the file, not a crash.
func decodeMapped(m *mapping, name string, raw bool, fn func(Object) error) (err error) {
	if m.mapped {
		old := debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(old)
		defer func() {
			if r := recover(); r != nil {
				if _, fault := r.(interface{ Addr() uintptr }); !fault {
					panic(r)
				}
				err = fmt.Errorf("read %s: the file changed while it was read", name)
			}
		}()
	}
	return decodeEach(m.data, name, raw, m, fn)
}

// readFile reads a file named with -f. Its size is checked before it is
// read; pipes and devices (`-f <(kubectl get ...)`, or a mistaken
// /dev/zero) have none and are bounded while they are read. A regular file
// is mapped rather than copied (mapFile).
func readFile(name string) (*mapping, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory", name)
	}
	if info.Mode().IsRegular() && info.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: file is %d bytes, over the limit of %d", name, info.Size(), MaxFileSize)
	}
	// Files of /proc and the like say they are empty and are not.
	if info.Mode().IsRegular() && info.Size() > 0 {
		return mapFile(f, info.Size())
	}
	data, err := readLimited(f, name, info.Size())
	if err != nil {
		return nil, err
	}
	return &mapping{data: data}, nil
}

// readLimited reads r up to MaxFileSize, failing as soon as the input is
// over it, or is binary in a way no text encoding explains (a NUL byte
// without a UTF-16 byte-order mark), so that an endless stream of zeros
// is not read to the limit.
func readLimited(r io.Reader, name string, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= MaxFileSize {
		// One allocation instead of doubling: peak memory is the file.
		buf.Grow(int(sizeHint) + 1)
	}
	chunk := make([]byte, 1<<20)
	utf16 := false
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			if buf.Len() == 0 {
				utf16 = bytes.HasPrefix(chunk[:n], bomUTF16LE) || bytes.HasPrefix(chunk[:n], bomUTF16BE)
			}
			if !utf16 && bytes.IndexByte(chunk[:n], 0) >= 0 {
				// Decode names the offset.
				buf.Write(chunk[:n])
				return buf.Bytes(), nil
			}
			if buf.Len()+n > MaxFileSize {
				return nil, fmt.Errorf("%s: over the limit of %d bytes", name, MaxFileSize)
			}
			buf.Write(chunk[:n])
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

func expandPath(p string, recursive bool) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if d.IsDir() {
			if path != p && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if manifestExtensions[strings.ToLower(filepath.Ext(path))] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		hint := ""
		if !recursive {
			hint = " (use -R to read subdirectories)"
		}
		return nil, fmt.Errorf("%s: directory holds no manifest files (.yaml, .yml, .json)%s: %w", p, hint, ErrNoObjects)
	}
	sort.Strings(files)
	return files, nil
}

// InputSize returns the bytes in the files WalkPaths would read for paths
// (standard input, and any path it cannot read, count nothing): what a
// command can know of its input's size before reading it.
func InputSize(paths []string, recursive bool) int64 {
	var total int64
	for _, p := range paths {
		if p == Stdin {
			continue
		}
		files, err := expandPath(p, recursive)
		if err != nil {
			continue
		}
		for _, f := range files {
			if info, err := os.Stat(f); err == nil && info.Mode().IsRegular() {
				total += info.Size()
			}
		}
	}
	return total
}
