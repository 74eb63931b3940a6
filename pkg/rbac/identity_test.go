package rbac

import (
	"reflect"
	"testing"
)

func TestServiceAccountIdentities(t *testing.T) {
	tests := []struct {
		name string
		got  User
		want User
	}{
		{
			name: "token-authenticated service account",
			got:  ServiceAccountUser("team-a", "web"),
			want: User{Name: "system:serviceaccount:team-a:web", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"}},
		},
		{
			name: "pod service account as PSP admission builds it",
			got:  PodServiceAccountUser("team-a", "web"),
			want: User{Name: "system:serviceaccount:team-a:web", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team-a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func TestControllerUser(t *testing.T) {
	sa := func(name string) User { return ServiceAccountUser("kube-system", name) }
	kcm := User{Name: "system:kube-controller-manager", Groups: []string{"system:authenticated"}}
	tests := []struct {
		kind   string
		mode   ControllerIdentityMode
		want   User
		wantOK bool
	}{
		{"ReplicaSet", ControllerServiceAccounts, sa("replicaset-controller"), true},
		{"DaemonSet", ControllerServiceAccounts, sa("daemon-set-controller"), true},
		{"StatefulSet", ControllerServiceAccounts, sa("statefulset-controller"), true},
		{"Job", ControllerServiceAccounts, sa("job-controller"), true},
		{"ReplicationController", ControllerServiceAccounts, sa("replication-controller"), true},
		{"ReplicaSet", "", sa("replicaset-controller"), true},
		{"ReplicaSet", ControllerManager, kcm, true},
		{"DaemonSet", ControllerManager, kcm, true},
		{"StatefulSet", ControllerManager, kcm, true},
		{"Job", ControllerManager, kcm, true},
		{"ReplicationController", ControllerManager, kcm, true},
		{"Deployment", ControllerServiceAccounts, User{}, false},
		{"CronJob", ControllerServiceAccounts, User{}, false},
		{"Deployment", ControllerManager, User{}, false},
		{"CronJob", ControllerManager, User{}, false},
		{"Pod", ControllerServiceAccounts, User{}, false},
		{"replicaset", ControllerServiceAccounts, User{}, false},
		{"ReplicaSet", "kubelet", User{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+string(tt.mode), func(t *testing.T) {
			got, ok := ControllerUser(tt.kind, tt.mode)
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ControllerUser(%q, %q) = %+v, %v; want %+v, %v", tt.kind, tt.mode, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
