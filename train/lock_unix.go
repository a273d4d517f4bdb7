//go:build unix

package train

import (
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"golang.org/x/sys/unix"
)

// lockDir takes the lock of a run directory: an exclusive flock on its lock
// file, which holds the process id of its holder. It fails at once, with a usage
// error naming the holder, when another process holds it. The kernel releases
// the lock when the process ends, however it ends. On a file system that has no
// locks it locks nothing.
func lockDir(dir string) (*os.File, error) {
	path := lockPath(dir)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, errors.Wrap(err, "locking the run directory")
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return f, nil // a file system without locks: the directory is not locked
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := "another process"
			if raw, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(raw))); perr == nil && pid > 0 {
					holder = "process " + strconv.Itoa(pid)
				}
			}
			return nil, Usage(errors.Errorf("run directory %s is in use by %s (%s is locked)", dir, holder, path))
		}
		return nil, errors.Wrapf(err, "locking %s", path)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// unlockDir releases the lock lockDir took.
func unlockDir(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}
