//go:build !linux

package devstack

import "syscall"

// procAttr starts a service in its own process group. Parent-death
// signals are Linux's: elsewhere a hard kill of the stack's process leaves
// its services running.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// Processes finds a stack's processes through /proc, on Linux only.
func Processes(string) ([]int, error) { return nil, nil }

// KillLeftovers finds a dead stack's processes through /proc, on Linux
// only.
func KillLeftovers(string) (int, error) { return 0, nil }

// DieWithParent needs Linux's parent-death signal; elsewhere it does
// nothing.
func DieWithParent(syscall.Signal) error { return nil }
