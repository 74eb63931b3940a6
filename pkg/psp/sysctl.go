package psp

import (
	"slices"
	"strings"
)

// safeSysctls are the sysctls the v1.24 kubelet considered namespaced and
// isolated: every PSP allowed them unless it forbade them.
var safeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",
}

// SafeSysctls returns the v1.24 safe sysctl set, sorted.
func SafeSysctls() []string { return slices.Clone(safeSysctls) }

// IsSafeSysctl reports whether name is in the v1.24 safe set.
func IsSafeSysctl(name string) bool { return slices.Contains(safeSysctls, name) }

// SysctlMatches matches name against allowedUnsafeSysctls or
// forbiddenSysctls entries: exact names, or "prefix*" globs.
func SysctlMatches(patterns []string, name string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}
