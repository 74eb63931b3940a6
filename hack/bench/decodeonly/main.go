// Command decodeonly is the offline benchmark's baseline: it decodes
// manifest files into unstructured objects the way a plain client tool does
// (k8s.io/apimachinery/pkg/util/yaml's YAML-or-JSON decoder into
// unstructured.Unstructured, Lists expanded), keeps every object until the
// end, prints the count and does nothing else. The audit has to do at least
// this much, so its time and peak RSS are compared against this program's.
//
//	go run ./hack/bench/decodeonly FILE...
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: decodeonly FILE...")
		os.Exit(1)
	}
	var objs []unstructured.Unstructured
	for _, path := range os.Args[1:] {
		var err error
		objs, err = decodeFile(path, objs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "decodeonly: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Printf("%d objects\n", len(objs))
	// The objects must be live at the end, as the audit's are until it reports.
	runtime.KeepAlive(objs)
}

func decodeFile(path string, objs []unstructured.Unstructured) ([]unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReaderSize(f, 1<<20), 4096)
	for doc := 1; ; doc++ {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(u); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", path, doc, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if !u.IsList() {
			objs = append(objs, *u)
			continue
		}
		list, err := u.ToList()
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, doc, err)
		}
		objs = append(objs, list.Items...)
	}
}
