// Package testenv tells tests where the real datasets may be: the directories
// of $TRIAD_DATA (relative ones also from the module root) and shared/data
// beside the module root, so that `go test` finds them from any package
// directory. Tests that need a dataset skip when it is in none of them.
package testenv

import (
	"os"
	"path/filepath"
)

// Dirs returns the directories to look for datasets in, in order.
func Dirs() []string {
	root := ModuleRoot()
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("TRIAD_DATA")) {
		if d == "" {
			continue
		}
		dirs = append(dirs, d)
		if !filepath.IsAbs(d) && root != "" {
			dirs = append(dirs, filepath.Join(root, d))
		}
	}
	if root != "" {
		dirs = append(dirs, filepath.Join(root, "..", "shared", "data"))
	}
	return dirs
}

// ModuleRoot returns the nearest directory above the working directory holding
// go.mod, or "".
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
