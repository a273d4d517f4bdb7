package testenv

import (
	"os"
	"path/filepath"
)

// Must returns v, and panics with err where err is not nil: what an Example
// does with a call that cannot fail on the data it wrote.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Check panics with err where err is not nil.
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// TempDir makes a new temporary directory whose name starts with prefix, for
// an Example (a test has t.TempDir), and returns it with the function that
// removes it.
func TempDir(prefix string) (dir string, remove func()) {
	dir = Must(os.MkdirTemp("", prefix))
	return dir, func() { os.RemoveAll(dir) }
}

// TempText is TempDir holding text in input.txt, the layout of the text of a
// language-modelling run.
func TempText(prefix, text string) (dir string, remove func()) {
	dir, remove = TempDir(prefix)
	Check(os.WriteFile(filepath.Join(dir, "input.txt"), []byte(text), 0o644))
	return dir, remove
}
