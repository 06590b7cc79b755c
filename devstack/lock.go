package devstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the state folder's lock: held (flock) by the live stack's
// process, and released by the kernel when that process dies, however it
// dies. Its text is the holder's pid.
const lockFile = "devstack.lock"

// lockState takes dir's lock, or says which process holds it.
func lockState(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state folder lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("state folder %s is in use by a running stack (pid %s)", dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("state folder lock: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// unlockState releases the lock (closing the file releases the flock).
func unlockState(f *os.File) {
	if f != nil {
		f.Close()
	}
}
