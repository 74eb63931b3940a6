package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

// TestReadPathsMatchesFromObjects holds ReadPaths, which decodes the items
// of Lists straight from their JSON into their types, to what FromObjects
// builds from Decode's maps: the same inventory, warnings and errors, for
// YAML and JSON Lists alike, wrong types and unknown fields included.
func TestReadPathsMatchesFromObjects(t *testing.T) {
	psp := `{apiVersion: policy/v1beta1, kind: PodSecurityPolicy, metadata: {name: p}, spec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}, volumes: ['*']}}`
	pod := func(name, extra string) string {
		return `{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `, namespace: a, labels: {app: x}}, spec: {containers: [{name: c, image: i, securityContext: {runAsUser: 1000}}]` + extra + `}}`
	}
	for _, tc := range []struct {
		name  string
		items []string
	}{
		{"valid", []string{psp, pod("a", ""), pod("b", ", hostNetwork: true"),
			`{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: a}, spec: {replicas: 2, template: {spec: {containers: [{name: c, image: i}]}}}}`,
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: cm, namespace: a}}`}},
		{"unknown fields", []string{psp, pod("a", ", futureField: 1, other: {x: 1}"), pod("b", ", futureField: 2")}},
		{"wrong type", []string{psp, pod("a", ", hostNetwork: yes please")}},
		{"wrong type in a list", []string{psp, pod("a", ", containers: [{name: c, ports: [{containerPort: x}]}]")}},
		{"fraction for an integer", []string{psp, pod("a", ", priority: 1.5")}},
		{"misspelt PSP field", []string{strings.Replace(psp, "volumes", "volume", 1)}},
		{"invalid PSP", []string{strings.Replace(psp, "RunAsAny}, supp", "Sometimes}, supp", 1)}},
		{"duplicates", []string{pod("a", ""), pod("a", ", hostPID: true")}},
	} {
		for _, format := range []string{"yaml", "json"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				data := listFile(t, tc.items, format)
				path := filepath.Join(t.TempDir(), "dump."+format)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				got, gotErr := ReadPaths([]string{path}, false, nil)
				var want *Inventory
				objs, wantErr := manifest.ReadPaths([]string{path}, false, nil)
				if wantErr == nil {
					want, wantErr = FromObjects(objs)
				}
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("error:\n got  %v\n want %v", gotErr, wantErr)
				}
				if !reflect.DeepEqual(got, want) {
					g, _ := json.Marshal(got)
					w, _ := json.Marshal(want)
					t.Fatalf("inventories differ:\n got  %s\n want %s", g, w)
				}
			})
		}
	}
}

// listFile writes items (YAML flow mappings) as a List the way kubectl
// prints one.
func listFile(t *testing.T, items []string, format string) []byte {
	t.Helper()
	var objs []interface{}
	for _, it := range items {
		var v interface{}
		if err := yaml.Unmarshal([]byte(it), &v); err != nil {
			t.Fatalf("%s: %v", it, err)
		}
		objs = append(objs, v)
	}
	list := map[string]interface{}{"apiVersion": "v1", "kind": "List", "items": objs, "metadata": map[string]interface{}{"resourceVersion": ""}}
	var b []byte
	var err error
	if format == "json" {
		b, err = json.MarshalIndent(list, "", "    ")
	} else {
		b, err = yaml.Marshal(list)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}
