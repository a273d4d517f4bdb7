//go:build !unix

package train

import "os"

// lockDir opens the lock file of a run directory; where flock does not exist,
// it locks nothing.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(lockPath(dir), os.O_RDWR|os.O_CREATE, 0o644)
}

// unlockDir closes the lock file lockDir opened.
func unlockDir(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}
