package atomicfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// leftovers returns the temporary files of path still present in its directory.
func leftovers(t *testing.T, path string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), TempPrefix(path)) {
			out = append(out, e.Name())
		}
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.bin")
	if err := WriteFile(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "first" {
		t.Fatalf("got %q, want %q", got, "first")
	}
	// Larger than the write buffer, so the data goes through several flushes.
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*bufferSize/16+7)
	if err := WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); !bytes.Equal(got, big) {
		t.Fatalf("replaced contents differ: %d bytes, want %d", len(got), len(big))
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Fatalf("temporary files left: %v", l)
	}
}

func TestWritePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits are not kept on Windows")
	}
	path := filepath.Join(t.TempDir(), "p")
	if err := WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	// Compare with os.WriteFile, which applies the umask the same way.
	ref := filepath.Join(filepath.Dir(path), "ref")
	if err := os.WriteFile(ref, nil, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("y"), 0o664); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(path)
	b, _ := os.Stat(ref)
	if a.Mode().Perm() != b.Mode().Perm() {
		t.Fatalf("mode %v, os.WriteFile gives %v", a.Mode().Perm(), b.Mode().Perm())
	}
}

func TestFillErrorKeepsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keep")
	if err := WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write(bytes.Repeat([]byte{'n'}, 2*bufferSize)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the fill error", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
	if got := mustRead(t, path); string(got) != "old contents" {
		t.Fatalf("old file changed to %d bytes", len(got))
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Fatalf("temporary files left: %v", l)
	}
}

func TestFillPanicKeepsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keep")
	if err := WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic in fill was swallowed")
			}
		}()
		_ = Write(path, 0o644, func(w io.Writer) error {
			w.Write([]byte("partial"))
			panic("fill failed")
		})
	}()
	if got := mustRead(t, path); string(got) != "old" {
		t.Fatalf("old file changed to %q", got)
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Fatalf("temporary files left: %v", l)
	}
}

func TestWriteOverDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inner"), []byte("i"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("x"), 0o644); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Fatalf("directory damaged: %v", err)
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Fatalf("temporary files left: %v", l)
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "f")
	err := WriteFile(path, []byte("x"), 0o644)
	if err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}
