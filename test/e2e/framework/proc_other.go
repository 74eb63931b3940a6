//go:build !linux

package framework

import (
	"os"
	"syscall"
)

// sysProcAttr has no portable way to tie a child's life to ours off Linux;
// Cleanup's kill is all there is.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { _ = p.Kill() }

// pidAlive answers true so that no folder is ever swept off Linux.
func pidAlive(int) bool { return true }
