package vocab

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
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

// loadCase is a file content that a loader must refuse with an error holding
// want.
type loadCase struct{ name, data, want string }

// checkLoadErrors writes each case's data to a file and checks that load
// refuses it with an error naming the file and holding the case's want.
func checkLoadErrors[T any](t *testing.T, load func(path string) (T, error), cases []loadCase) {
	t.Helper()
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := load(path)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name the file and %q", c.name, err, c.want)
		}
	}
}

// reparse parses what marshal writes with parse, failing the test on either
// error.
func reparse[T any](t *testing.T, marshal func() ([]byte, error), parse func(data []byte, name string) (T, error)) T {
	t.Helper()
	data, err := marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parse(data, "saved.json")
	if err != nil {
		t.Fatalf("parsing the saved content: %v", err)
	}
	return got
}

// saveAndLoad saves with save into a new directory twice, the second time
// over the first, checks that the directory then holds just that file and
// that saving into a missing directory fails, and returns what load reads
// back.
func saveAndLoad[T any](t *testing.T, save func(path string) error, load func(path string) (T, error)) T {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "saved.json")
	for range 2 {
		if err := save(path); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %d entries after Save, want 1 (no temporary files)", len(entries))
	}
	if err := save(filepath.Join(dir, "no", "such", "dir", "x.json")); err == nil {
		t.Fatal("Save into a missing directory: no error")
	}
	got, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
