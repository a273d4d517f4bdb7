package vocab

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A vocabulary file of 3M tokens is refused before its tokens are allocated.
func TestLoadVocabTooManyTokens(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>"`)
	for i := 0; i < 3_000_000; i++ {
		fmt.Fprintf(&b, `,"%x"`, i)
	}
	b.WriteString("]}\n")
	path := filepath.Join(t.TempDir(), "vocab.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	size := uint64(b.Len())
	b = strings.Builder{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadVocab(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d tokens", MaxTokens)) {
		t.Fatalf("error %v, want one naming the file and the token limit", err)
	}
	// Reading and checking the file costs a few times its size; decoding 3M
	// tokens would cost several times more.
	if n := after.TotalAlloc - before.TotalAlloc; n > 8*size {
		t.Errorf("LoadVocab allocated %d bytes for a %d-byte file", n, size)
	}
}

// Files over MaxFileBytes are refused before they are read.
func TestLoadFileTooLarge(t *testing.T) {
	for _, load := range []func(string) error{
		func(p string) error { _, err := LoadVocab(p); return err },
		func(p string) error { _, err := LoadBPE(p); return err },
	} {
		path := filepath.Join(t.TempDir(), "big.json")
		if err := os.WriteFile(path, []byte(`{"format":`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 10<<30); err != nil {
			t.Skipf("cannot make a sparse file: %v", err)
		}
		err := load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("error %v, want one naming the file and the size limit", err)
		}
	}
}

// The token-by-token parser accepts what Save writes and rejects what the
// strict decoder rejected.
func TestParseVocabStrict(t *testing.T) {
	good := `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>","a"]}`
	v, err := ParseVocab([]byte(good), "v")
	if err != nil || v.Len() != 5 {
		t.Fatalf("good file: %v", err)
	}
	for _, bad := range []string{
		`{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>"],"x":1}`,
		good + ` {}`,
		`{"format":"triad-vocab","version":1,"tokens":{}}`,
		`{"format":"triad-vocab","version":1,"tokens":[1]}`,
		`{"format":"triad-vocab","version":1,"tokens":["<pad>"`,
		`[]`,
		``,
	} {
		if _, err := ParseVocab([]byte(bad), "v"); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}

func TestCountElements(t *testing.T) {
	for raw, want := range map[string]int{
		`[]`: 0, ` [ ] `: 0, `["a"]`: 1, `["a,b", "c"]`: 2, `["a\"],", "\\", "x"]`: 3,
		`[[1,2],{"a":1,"b":2},3]`: 3, `null`: 0, `{}`: 0,
	} {
		if got := countElements([]byte(raw)); got != want {
			t.Errorf("countElements(%s) = %d, want %d", raw, got, want)
		}
	}
}
