package atomicfile

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/pkg/errors"
)

// bufferSize is the size of the write buffer between fill and the temporary file.
const bufferSize = 1 << 20

// TempPrefix returns the name prefix, within the directory of path, of the
// temporary files that Write creates for path.
func TempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}

// Write replaces the file at path with the bytes that fill writes to w. The new
// file gets permissions perm (before the umask) whether or not path existed.
//
// On any error, including an error returned by fill or a panic in fill, the
// temporary file is removed and the file previously at path, if any, is left
// untouched. An error while syncing the directory after the rename is reported too,
// although the new contents are then already in place. If path is a symbolic link,
// the link itself is replaced by a regular file.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, tmp, err := createTemp(dir, TempPrefix(path), perm)
	if err != nil {
		return errors.Wrapf(err, "atomicfile: creating a temporary file for %s", path)
	}
	closed, renamed := false, false
	defer func() {
		if !closed {
			f.Close()
		}
		if !renamed {
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, bufferSize)
	if err := fill(bw); err != nil {
		return errors.Wrapf(err, "atomicfile: writing %s", path)
	}
	if err := bw.Flush(); err != nil {
		return errors.Wrapf(err, "atomicfile: writing %s", path)
	}
	if err := f.Sync(); err != nil {
		return errors.Wrapf(err, "atomicfile: syncing %s", tmp)
	}
	closed = true
	if err := f.Close(); err != nil {
		return errors.Wrapf(err, "atomicfile: closing %s", tmp)
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "atomicfile: replacing %s", path)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return errors.Wrapf(err, "atomicfile: %s was replaced but syncing its directory failed", path)
	}
	return nil
}

// WriteFile replaces the file at path with data, like os.WriteFile but atomically
// (see Write).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// createTemp creates a new file dir/prefix<random> exclusively. Unlike
// os.CreateTemp it opens the file with perm, so the umask applies as it does for
// os.WriteFile.
func createTemp(dir, prefix string, perm os.FileMode) (*os.File, string, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !os.IsExist(err) || try >= 100 {
			return nil, "", err
		}
	}
}

// syncDir flushes the directory entry changes of dir to stable storage. Windows
// cannot open a directory for syncing, and its rename is durable on return, so
// nothing is done there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
