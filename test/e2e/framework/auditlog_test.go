package framework

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPluginWrites(t *testing.T) {
	lines := `{"auditID":"1","stage":"ResponseComplete","verb":"list","requestURI":"/api/v1/pods","userAgent":"kubectl-psp_migrate/e2e (linux/amd64)","user":{"username":"reader"}}
{"auditID":"2","stage":"RequestReceived","verb":"create","requestURI":"/api/v1/namespaces","userAgent":"kubectl/v1.30.14","user":{"username":"admin"}}
{"auditID":"3","stage":"RequestReceived","verb":"create","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews","userAgent":"kubectl-psp_migrate/e2e (linux/amd64)","user":{"username":"reader"}}
{"auditID":"3","stage":"ResponseComplete","verb":"create","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews","userAgent":"kubectl-psp_migrate/e2e (linux/amd64)","user":{"username":"reader"}}
`
	tests := []struct {
		name  string
		lines string
		want  []string
	}{
		{"reads only", strings.SplitAfter(lines, "\n")[0], nil},
		{"another agent's writes are not the plugin's", strings.Join(strings.SplitAfter(lines, "\n")[:2], ""), nil},
		{"a write by the plugin is reported once", lines, []string{
			"create /apis/authorization.k8s.io/v1/selfsubjectaccessreviews as reader (kubectl-psp_migrate/e2e (linux/amd64))"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(path, []byte(tt.lines), 0o600); err != nil {
				t.Fatal(err)
			}
			events, err := readAuditLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := pluginWrites(events); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pluginWrites = %q, want %q", got, tt.want)
			}
		})
	}
}
