package framework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeYAML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // kind/name of each object
		wantErr string
	}{
		{
			name: "documents with empty ones between",
			in:   "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b, namespace: a}\n",
			want: []string{"Namespace/a", "ServiceAccount/b"},
		},
		{
			name: "JSON",
			in:   `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}`,
			want: []string{"ConfigMap/c"},
		},
		{
			name: "v1 List is unrolled",
			in:   "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n- {apiVersion: v1, kind: Secret, metadata: {name: z}}\n",
			want: []string{"ConfigMap/x", "Secret/z"},
		},
		{
			name:    "missing kind",
			in:      "apiVersion: v1\nmetadata: {name: a}\n",
			wantErr: "document 1 has no kind",
		},
		{
			name:    "broken YAML",
			in:      "apiVersion: v1\nkind: [\n",
			wantErr: "decode YAML document 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := decodeYAML([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeYAML: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckUsersAndTokenFile(t *testing.T) {
	if _, err := checkUsers(map[string][]string{AdminUser: nil}); err == nil {
		t.Error("checkUsers accepted a user named admin")
	}
	if _, err := checkUsers(map[string][]string{"bob": {"a,b"}}); err == nil {
		t.Error("checkUsers accepted a group with a comma")
	}
	users, err := checkUsers(map[string][]string{"alice": {"dev", "ops"}, "bob": nil})
	if err != nil {
		t.Fatalf("checkUsers: %v", err)
	}
	path := filepath.Join(t.TempDir(), "tokens.csv")
	tokens, err := writeTokenFile(path, users)
	if err != nil {
		t.Fatalf("writeTokenFile: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		tokens["admin"] + `,admin,admin,"system:masters"`,
		tokens["alice"] + `,alice,alice,"dev,ops"`,
		tokens["bob"] + `,bob,bob`,
	}, "\n") + "\n"
	if string(data) != want {
		t.Errorf("token file:\n%s\nwant:\n%s", data, want)
	}
	if tokens["alice"] == tokens["bob"] || len(tokens["alice"]) != 48 {
		t.Errorf("tokens not distinct random hex: %v", tokens)
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		e2e, versions, version string
		want                   bool
	}{
		{"", "", "v1.24", false},
		{"required", "", "v1.30", true},
		{"required", "v1.24.17", "v1.24", true},
		{"required", "v1.24.17", "v1.30", false},
		{"required", "v1.24.17 v1.30.14", "v1.30", true},
		{"required", "v1.24.17", "v1.2", false},
	}
	for _, tt := range tests {
		t.Setenv(EnvE2E, tt.e2e)
		t.Setenv(EnvVersions, tt.versions)
		if got := required(tt.version); got != tt.want {
			t.Errorf("required(%q) with %s=%q %s=%q = %v, want %v", tt.version, EnvE2E, tt.e2e, EnvVersions, tt.versions, got, tt.want)
		}
	}
}
