package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// distLister lists the archives a manifest points at from a local goreleaser
// dist directory: a platform's uri is looked up by its file name.
func distLister(dist string) archiveLister {
	return func(uri string) ([]string, error) {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("parse uri %q: %w", uri, err)
		}
		return archiveEntries(filepath.Join(dist, path.Base(u.Path)))
	}
}

// archiveEntries returns the regular files in a .tar.gz or .zip archive.
func archiveEntries(file string) ([]string, error) {
	switch {
	case strings.HasSuffix(file, ".tar.gz"), strings.HasSuffix(file, ".tgz"):
		return tarGzEntries(file)
	case strings.HasSuffix(file, ".zip"):
		return zipEntries(file)
	default:
		return nil, fmt.Errorf("archive %s: not a .tar.gz or .zip", file)
	}
}

func tarGzEntries(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read archive %s: %w", file, err)
	}
	defer gz.Close()
	var out []string
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive %s: %w", file, err)
		}
		if h.Typeflag == tar.TypeReg {
			out = append(out, h.Name)
		}
	}
}

func zipEntries(file string) ([]string, error) {
	r, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	defer r.Close()
	var out []string
	for _, f := range r.File {
		if !f.FileInfo().IsDir() {
			out = append(out, f.Name)
		}
	}
	return out, nil
}
