package vocab

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/jsonscan"
)

// writeFileAtomic writes data to path so that path holds either its old content
// or all of data, never a part: it writes a temporary file in the same
// directory, syncs it to disk, renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return errors.Wrapf(err, "create temporary file for %s", path)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return errors.Wrapf(err, "write %s", tmp)
	}
	if err = f.Sync(); err != nil {
		return errors.Wrapf(err, "sync %s", tmp)
	}
	if err = f.Chmod(0o644); err != nil {
		return errors.Wrapf(err, "chmod %s", tmp)
	}
	if err = f.Close(); err != nil {
		return errors.Wrapf(err, "close %s", tmp)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "rename %s to %s", tmp, path)
	}
	// Make the rename itself durable. Some platforms cannot sync a directory;
	// the file is complete either way, so that error is not reported.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// decodeStrict parses JSON into v, rejecting unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// Formats and versions written in the JSON files.
const (
	vocabFormat = "triad-vocab"
	bpeFormat   = "triad-bpe"
	fileVersion = 1
)

// fileHeader opens every JSON file this package writes.
type fileHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// check returns an error unless the header is that of format at fileVersion.
func (h fileHeader) check(format string) error {
	if h.Format != format {
		return errors.Errorf("format is %q, want %q", h.Format, format)
	}
	if h.Version != fileVersion {
		return errors.Errorf("unsupported version %d (this reader knows version %d)", h.Version, fileVersion)
	}
	return nil
}

// decodeFile checks that data is within MaxFileBytes and decodes it with
// decode; errors start with kind ("vocab", "bpe") and the file's name, and
// call a file decode refuses not what ("a vocabulary file").
func decodeFile(kind, name, what string, data []byte, decode func([]byte) error) error {
	if len(data) > MaxFileBytes {
		return errors.Errorf("%s: %s: %d bytes, over the %d-byte limit", kind, name, len(data), MaxFileBytes)
	}
	return errors.Wrapf(decode(data), "%s: %s: not %s", kind, name, what)
}

type vocabFile struct {
	fileHeader
	Tokens []string `json:"tokens"`
}

// Save writes the vocabulary to path as JSON ({"format": "triad-vocab",
// "version": 1, "tokens": [...]}, tokens in id order), atomically.
func (v *Vocab) Save(path string) error { return saveFile("vocab", path, v.marshal) }

// saveFile writes the content marshal returns to path, atomically; errors
// start with kind ("vocab", "bpe").
func saveFile(kind, path string, marshal func() ([]byte, error)) error {
	data, err := marshal()
	if err != nil {
		return errors.Wrapf(err, "%s: save %s", kind, path)
	}
	return errors.Wrap(writeFileAtomic(path, data), kind+": save")
}

// loadFile reads the file at path (see readCapped) and parses its content
// with parse; errors start with kind ("vocab", "bpe").
func loadFile[T any](kind, path string, parse func(data []byte, name string) (T, error)) (T, error) {
	data, err := readCapped(path)
	if err != nil {
		var zero T
		return zero, errors.Wrap(err, kind+": load")
	}
	return parse(data, path)
}

// marshal returns the content Save writes.
func (v *Vocab) marshal() ([]byte, error) {
	data, err := json.MarshalIndent(vocabFile{fileHeader{vocabFormat, fileVersion}, v.tokens}, "", " ")
	return append(data, '\n'), err
}

// Limits on the files LoadVocab, ParseVocab, LoadBPE and ParseBPE accept, checked
// before the content is read or decoded, so that a corrupt or hostile file is an
// error rather than an allocation of its declared size.
const (
	// MaxFileBytes is the largest vocabulary or BPE file read (64 MiB).
	MaxFileBytes = 64 << 20
	// MaxTokens is the most tokens a vocabulary file may hold (2^20, twenty times
	// GPT-2's 50,257).
	MaxTokens = 1 << 20
	// MaxMerges is the most merges, and the most alphabet entries, a BPE file may
	// hold (2^20).
	MaxMerges = 1 << 20
)

// readCapped returns the content of the file at path, or an error when it is
// over MaxFileBytes, checked before the file is read.
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileBytes {
		return nil, errors.Errorf("%s is %d bytes, over the %d-byte limit", path, st.Size(), MaxFileBytes)
	}
	// The size may change under us: read at most one byte past the limit.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, errors.Wrapf(err, "reading %s", path)
	}
	if len(data) > MaxFileBytes {
		return nil, errors.Errorf("%s is over the %d-byte limit", path, MaxFileBytes)
	}
	return data, nil
}

// LoadVocab reads a vocabulary written by Save. See ParseVocab for the checks.
func LoadVocab(path string) (*Vocab, error) { return loadFile("vocab", path, ParseVocab) }

// decodeVocabFile parses a vocabulary file's JSON as decodeStrict would, but
// counts the tokens before decoding them, so that a tokens list longer than
// MaxTokens is an error before its tokens are allocated.
func decodeVocabFile(data []byte, f *vocabFile) error {
	var raw struct {
		fileHeader
		Tokens json.RawMessage `json:"tokens"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return err
	}
	f.fileHeader = raw.fileHeader
	if n := countElements(raw.Tokens); n > MaxTokens {
		return errors.Errorf("tokens: %d tokens, more than %d tokens allowed", n, MaxTokens)
	}
	if len(raw.Tokens) == 0 {
		return nil
	}
	return json.Unmarshal(raw.Tokens, &f.Tokens)
}

// countElements returns the number of elements of the JSON array raw, which
// the JSON decoder has already checked to be a valid value (0 when it is not
// an array).
func countElements(raw []byte) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' {
		return 0
	}
	n, depth, empty := 1, 0, true
	var str jsonscan.Strings
	for _, c := range raw[1 : len(raw)-1] {
		switch {
		case str.InString(c):
			empty = false
		case c == '[' || c == '{':
			depth++
			empty = false
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			n++
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			empty = false
		}
	}
	if empty {
		return 0
	}
	return n
}

// ParseVocab reads a vocabulary from the content of a file written by Save;
// name (usually the file's path) is used in error messages. It checks the format
// and version, that the special tokens hold ids 0 to 3, and that no token is
// empty, invalid UTF-8 or duplicated; data over MaxFileBytes, or more than
// MaxTokens tokens, is an error before the tokens are allocated.
func ParseVocab(data []byte, name string) (*Vocab, error) {
	var f vocabFile
	if err := decodeFile("vocab", name, "a vocabulary file", data, func(d []byte) error { return decodeVocabFile(d, &f) }); err != nil {
		return nil, err
	}
	if err := f.check(vocabFormat); err != nil {
		return nil, errors.Wrapf(err, "vocab: %s", name)
	}
	v, err := fromTokens(f.Tokens)
	if err != nil {
		return nil, errors.Wrapf(err, "vocab: %s", name)
	}
	return v, nil
}

// preSpec records a pre-tokenizer in a BPE file.
type preSpec struct {
	Kind         string `json:"kind"` // "whitespace" or "word"
	Lower        bool   `json:"lower,omitempty"`
	SplitHyphens bool   `json:"split_hyphens,omitempty"`
}

type bpeFile struct {
	fileHeader
	EndOfWord    string      `json:"end_of_word"`
	PreTokenizer preSpec     `json:"pretokenizer"`
	Alphabet     []string    `json:"alphabet"`
	Merges       [][2]string `json:"merges"`
}

func specOf(t Tokenizer) (preSpec, error) {
	switch p := t.(type) {
	case nil:
		return preSpec{Kind: "whitespace"}, nil
	case WordTokenizer:
		return preSpec{Kind: "word", Lower: p.Lower, SplitHyphens: p.SplitHyphens}, nil
	case *WordTokenizer:
		if p == nil {
			return preSpec{}, errors.New("pre-tokenizer is a nil *WordTokenizer")
		}
		return preSpec{Kind: "word", Lower: p.Lower, SplitHyphens: p.SplitHyphens}, nil
	}
	return preSpec{}, errors.Errorf("cannot record a pre-tokenizer of type %T (only nil and WordTokenizer)", t)
}

func (s preSpec) tokenizer() (Tokenizer, error) {
	switch s.Kind {
	case "whitespace":
		if s.Lower || s.SplitHyphens {
			return nil, errors.New("pretokenizer: whitespace takes no options")
		}
		return nil, nil
	case "word":
		return WordTokenizer{Lower: s.Lower, SplitHyphens: s.SplitHyphens}, nil
	}
	return nil, errors.Errorf("pretokenizer: unknown kind %q", s.Kind)
}

// Save writes the model to path as JSON (format "triad-bpe": end-of-word
// marker, pre-tokenizer, alphabet and merges in rank order), atomically. Only a
// nil pre-tokenizer or a WordTokenizer can be recorded; another Pre is an error.
func (b *BPE) Save(path string) error { return saveFile("bpe", path, b.marshal) }

// marshal returns the content Save writes.
func (b *BPE) marshal() ([]byte, error) {
	spec, err := specOf(b.Pre)
	if err != nil {
		return nil, err
	}
	f := bpeFile{fileHeader: fileHeader{bpeFormat, fileVersion}, EndOfWord: EndOfWord, PreTokenizer: spec,
		Alphabet: b.alphabet, Merges: make([][2]string, len(b.merges))}
	if f.Alphabet == nil {
		f.Alphabet = []string{}
	}
	for i, m := range b.merges {
		f.Merges[i] = [2]string{m.Left, m.Right}
	}
	data, err := json.MarshalIndent(f, "", " ")
	return append(data, '\n'), err
}

// LoadBPE reads a model written by BPE.Save. See ParseBPE for the checks.
func LoadBPE(path string) (*BPE, error) { return loadFile("bpe", path, ParseBPE) }

// validSymbol reports whether s can be a BPE symbol: non-empty valid UTF-8 with
// EndOfWord, if anywhere, only once at the end and after at least one character.
func validSymbol(s string) bool {
	body := strings.TrimSuffix(s, EndOfWord)
	return body != "" && utf8.ValidString(s) && !strings.Contains(body, EndOfWord)
}

// ParseBPE reads a BPE model from the content of a file written by BPE.Save;
// name is used in error messages. It checks the format, version and end-of-word
// marker, that alphabet entries are single characters (with or without the
// marker) without duplicates, and that every merge is new, joins a left symbol
// without the marker, and uses only symbols of the alphabet or made by earlier
// merges. Data over MaxFileBytes, or more than MaxMerges merges or alphabet
// entries, is an error.
func ParseBPE(data []byte, name string) (*BPE, error) {
	var f bpeFile
	if err := decodeFile("bpe", name, "a BPE file", data, func(d []byte) error { return decodeStrict(d, &f) }); err != nil {
		return nil, err
	}
	if len(f.Merges) > MaxMerges || len(f.Alphabet) > MaxMerges {
		return nil, errors.Errorf("bpe: %s: %d merges and %d alphabet entries, over the limit of %d each", name, len(f.Merges), len(f.Alphabet), MaxMerges)
	}
	if err := f.check(bpeFormat); err != nil {
		return nil, errors.Wrapf(err, "bpe: %s", name)
	}
	if f.EndOfWord != EndOfWord {
		return nil, errors.Errorf("bpe: %s: end-of-word marker is %q, want %q", name, f.EndOfWord, EndOfWord)
	}
	pre, err := f.PreTokenizer.tokenizer()
	if err != nil {
		return nil, errors.Wrapf(err, "bpe: %s", name)
	}
	known := make(map[string]bool, len(f.Alphabet)+len(f.Merges))
	for i, s := range f.Alphabet {
		if !validSymbol(s) || utf8.RuneCountInString(strings.TrimSuffix(s, EndOfWord)) != 1 {
			return nil, errors.Errorf("bpe: %s: alphabet entry %d (%q) is not one character", name, i, s)
		}
		if known[s] {
			return nil, errors.Errorf("bpe: %s: alphabet entry %d (%q) is a duplicate", name, i, s)
		}
		known[s] = true
	}
	merges := make([]Merge, len(f.Merges))
	seen := make(map[Merge]int, len(f.Merges))
	for i, p := range f.Merges {
		m := Merge{p[0], p[1]}
		switch {
		case !validSymbol(m.Left) || !validSymbol(m.Right):
			return nil, errors.Errorf("bpe: %s: merge %d (%q %q) has an invalid symbol", name, i, m.Left, m.Right)
		case strings.HasSuffix(m.Left, EndOfWord):
			return nil, errors.Errorf("bpe: %s: merge %d (%q %q) has a word-final left symbol", name, i, m.Left, m.Right)
		case !validSymbol(m.Left + m.Right):
			return nil, errors.Errorf("bpe: %s: merge %d (%q %q) makes an invalid symbol containing %q", name, i, m.Left, m.Right, EndOfWord)
		case !known[m.Left] || !known[m.Right]:
			return nil, errors.Errorf("bpe: %s: merge %d (%q %q) uses a symbol neither in the alphabet nor made by an earlier merge", name, i, m.Left, m.Right)
		}
		if j, dup := seen[m]; dup {
			return nil, errors.Errorf("bpe: %s: merge %d (%q %q) repeats merge %d", name, i, m.Left, m.Right, j)
		}
		seen[m] = i
		known[m.Left+m.Right] = true
		merges[i] = m
	}
	alphabet := append([]string{}, f.Alphabet...)
	sort.Strings(alphabet)
	return newBPE(pre, merges, alphabet), nil
}
