package translate

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
)

// loadInput is the inventory of testdata/input.yaml, which the engines'
// golden files are rendered from too.
func loadInput(t testing.TB) *inventory.Inventory {
	t.Helper()
	return translatetest.LoadInput(t, filepath.Join("testdata", "input.yaml"))
}

func TestCompile(t *testing.T) {
	inv := loadInput(t)
	t.Run("unknown PSP", func(t *testing.T) {
		if _, err := Compile(inv, Options{PSPs: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad scope and mode", func(t *testing.T) {
		if _, err := Compile(inv, Options{Scope: "x"}); err == nil {
			t.Error("scope x accepted")
		}
		if _, err := Compile(inv, Options{Mode: "x"}); err == nil {
			t.Error("mode x accepted")
		}
	})
	t.Run("nothing to convert", func(t *testing.T) {
		if _, err := Compile(&inventory.Inventory{}, Options{}); err != ErrNoPSPs {
			t.Errorf("err = %v, want ErrNoPSPs", err)
		}
	})
	t.Run("usability follows RBAC", func(t *testing.T) {
		set, err := Compile(inv, Options{Scope: ScopeRBAC})
		if err != nil {
			t.Fatal(err)
		}
		want := rbac.UseTable{
			"restricted": {Everywhere: true, Requesters: []rbac.RequesterGrant{{Kind: "Group", Name: "system:serviceaccounts"}}},
			// node-exporter may also use it for the pods it creates; the
			// renderers do not convert that (see requesterGrants).
			"agents.host": {ServiceAccounts: []string{"monitoring/node-exporter"},
				Requesters: []rbac.RequesterGrant{{Kind: "User", Name: "system:serviceaccount:monitoring:node-exporter", Namespaces: []string{"monitoring"}}}},
		}
		for name, u := range set.Usability {
			if w := want[name]; w == nil || !reflect.DeepEqual(*u, *w) {
				t.Errorf("usability of %s = %+v, want %+v", name, *u, w)
			}
		}
	})
}

// TestUsabilityAgreesWithIndex checks the rendered table against the RBAC
// index for every candidate and some identities nobody mentioned.
func TestUsabilityAgreesWithIndex(t *testing.T) {
	inv := loadInput(t)
	ix := rbac.NewIndex(inv.ClusterRoles, inv.ClusterRoleBindings, inv.Roles, inv.RoleBindings)
	table := inv.UseTable(ix, []string{"restricted", "agents.host"})
	accounts := []string{"elsewhere/someone", "monitoring/other", "monitoring/node-exporter"}
	for i := range inv.ServiceAccounts {
		accounts = append(accounts, inv.ServiceAccounts[i].Namespace+"/"+inv.ServiceAccounts[i].Name)
	}
	for _, a := range accounts {
		ns, sa, _ := strings.Cut(a, "/")
		for name, u := range table {
			// Grants to system:authenticated are part of the pod side.
			want := ix.CanUse(rbac.PodServiceAccountUser(ns, sa), ns, name) || ix.CanUse(*rbac.Unknown(), ns, name)
			if got := u.PodServiceAccount(ns, sa); got != want {
				t.Errorf("%s may use %s: table %t, index %t", a, name, got, want)
			}
		}
	}
}
