package devstack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// procAttr starts a service in its own process group, with SIGKILL as its
// parent-death signal: it dies with the stack's process (spawner keeps the
// forking thread alive as long as the stack).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Processes lists the live processes that carry dir as their StateEnv:
// the services, and anything they started, of a stack on state folder dir.
func Processes(dir string) ([]int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	want := []byte(StateEnv + "=" + dir + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		// Unreadable (another user's, or gone) and zombie processes
		// (empty environ) do not match.
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// KillLeftovers kills the processes a dead stack left running on state
// folder dir (Processes), and waits until they are gone, so that their
// ports are free. The caller holds dir's lock, so no live stack owns them.
func KillLeftovers(dir string) (int, error) {
	pids, err := Processes(dir)
	if err != nil || len(pids) == 0 {
		return 0, err
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := Processes(dir)
		if err != nil {
			return len(pids), err
		}
		if len(left) == 0 {
			return len(pids), nil
		}
		if time.Now().After(deadline) {
			return len(pids), fmt.Errorf("processes %v of a dead stack on %s survive SIGKILL", left, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DieWithParent has the kernel send this process sig when its parent dies:
// omtx-dev then stops its stack as on Ctrl-C when whatever started it (go
// run, make's shell) is killed. If the parent died already, sig is sent at
// once.
func DieWithParent(sig syscall.Signal) error {
	ppid := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", errno)
	}
	if os.Getppid() != ppid {
		return syscall.Kill(os.Getpid(), sig)
	}
	return nil
}
