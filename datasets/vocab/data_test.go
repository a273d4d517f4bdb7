package vocab

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

// dataFile finds rel (such as "multi30k/train.en.gz") in the directories of
// $TRIAD_DATA or in shared/data beside the module root, and skips the test when
// it is nowhere.
func dataFile(t testing.TB, rel string) string {
	t.Helper()
	for _, d := range testenv.Dirs() {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("dataset file %s not found in $TRIAD_DATA or ../shared/data; skipping", rel)
	return ""
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
