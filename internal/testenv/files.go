package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ReadJSON decodes the JSON file at path into a T.
func ReadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(raw, &v), path)
	return v
}

// ReadLines returns the lines of the text file at path, without the newline
// that ends the last.
func ReadLines(t testing.TB, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// TextDir writes text to input.txt in a new temporary directory, the layout of
// the text of a language-modelling run, and returns the directory.
func TextDir(t testing.TB, text string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "input.txt"), []byte(text), 0o644))
	return dir
}

// ReadFile returns the contents of the file at path.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(raw)
}

// RequireSameFile checks that the directories want and got hold the same,
// non-empty, file name: the metrics.jsonl of two runs that must agree, say.
func RequireSameFile(t testing.TB, name, want, got string) {
	t.Helper()
	w := ReadFile(t, filepath.Join(want, name))
	require.NotEmpty(t, w, name)
	require.Equal(t, w, ReadFile(t, filepath.Join(got, name)), name)
}

// RequireInvalid checks that the configuration defaults returns is valid and
// that each of edits, applied to it, makes it invalid.
func RequireInvalid[C interface{ Validate() error }](t testing.TB, defaults func() C, edits map[string]func(*C)) {
	t.Helper()
	require.NoError(t, defaults().Validate())
	for name, edit := range edits {
		c := defaults()
		edit(&c)
		require.Error(t, c.Validate(), "%s: %+v", name, c)
	}
}

// RunShort calls an example script's run in short mode on a new temporary
// directory, ending the test where it fails, and returns the directory and
// run's result.
func RunShort[R any](t testing.TB, run func(out string, short bool) (R, error)) (string, R) {
	t.Helper()
	dir := t.TempDir()
	res, err := run(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// NonEmptyFiles reports, as errors of the test, every one of names missing or
// empty in dir.
func NonEmptyFiles(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", name, err)
		}
	}
}
