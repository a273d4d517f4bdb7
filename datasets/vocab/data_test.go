package vocab

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// dataFile finds rel (such as "multi30k/train.en.gz") in the directories of
// $TRIAD_DATA or in shared/data beside the module root, and skips the test when
// it is nowhere.
func dataFile(t testing.TB, rel string) string {
	t.Helper()
	var dirs []string
	root := moduleRoot()
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
	for _, d := range dirs {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("dataset file %s not found in $TRIAD_DATA or ../shared/data; skipping", rel)
	return ""
}

// moduleRoot returns the nearest directory above the working directory that
// holds go.mod, or "".
func moduleRoot() string {
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

// readGzipLines reads a gzipped text file, one string a line.
func readGzipLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}
