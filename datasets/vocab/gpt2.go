package vocab

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// GPT2EndOfText is the special token that separates documents in GPT-2's
// training data.
const GPT2EndOfText = "<|endoftext|>"

// GPT2EndOfTextID is the id of GPT2EndOfText in GPT-2's released vocabulary,
// its last id.
const GPT2EndOfTextID = 50256

// GPT2VocabSize is the number of tokens of GPT-2's released vocabulary: 256
// byte tokens, 50,000 merges and GPT2EndOfText.
const GPT2VocabSize = 50257

// maxGPT2File bounds the size of encoder.json and vocab.bpe (GPT-2's are 1.0
// MB and 0.5 MB).
const maxGPT2File = MaxFileBytes

// Limits of the cache of piece encodings: the number of pieces, and the
// length in bytes of the longest piece that is cached.
const (
	gpt2CacheSize   = 1 << 16
	gpt2CacheMaxLen = 64
)

// gpt2ShortPiece is the length up to which a piece is merged by rescanning its
// pairs each round; longer pieces use a priority queue.
const gpt2ShortPiece = 48

// GPT2BPE is GPT-2's byte-level byte-pair encoding (Radford et al. 2019,
// "Language Models are Unsupervised Multitask Learners", section 2.2; the
// algorithm of openai/gpt-2's src/encoder.py), read from its two files:
// encoder.json, a JSON object mapping each token to its id, and vocab.bpe, the
// ranked merges, one "LEFT RIGHT" pair a line after a "#version" line.
//
// Text is handled as bytes. Each byte is first mapped to a printable
// character (byte-to-unicode map: the printable Latin-1 bytes stand for
// themselves, the other 68 bytes for U+0100 to U+0143), so tokens are strings
// of those characters and every byte sequence, valid UTF-8 or not, can be
// encoded. Encode splits text with GPT2PreTokenize and encodes each piece
// separately: starting from its bytes, it repeatedly takes the adjacent pair
// with the lowest merge rank and merges every occurrence of it, left to right,
// until no adjacent pair is a merge. Decode maps ids back to the bytes they
// stand for, so Decode(Encode(s)) == s for every s.
//
// A GPT2BPE is safe for concurrent use. It remembers the encodings of up to
// 65,536 pieces of at most 64 bytes; the cache is emptied when it is full.
type GPT2BPE struct {
	ids    map[string]int32 // token -> id
	tokens []string         // id -> token
	// Decoded bytes of id i: raw[off[i]:off[i+1]].
	raw []byte
	off []int32
	// byteID[b] is the id of the token of the single byte b.
	byteID [256]int32
	// merges maps the pair of ids (left<<32 | right) to rank<<32 | merged id.
	merges map[uint64]uint64

	mu    sync.Mutex
	cache map[string][]int
}

// gpt2ByteRunes maps each byte to the character that stands for it in
// GPT-2's tokens; gpt2RuneBytes is its inverse (-1 where a character stands
// for no byte).
var gpt2ByteRunes, gpt2RuneBytes = func() (b2r [256]rune, r2b [0x100 + 68]int16) {
	for i := range r2b {
		r2b[i] = -1
	}
	next := rune(0x100)
	for b := 0; b < 256; b++ {
		printable := '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF
		if printable {
			b2r[b] = rune(b)
		} else {
			b2r[b] = next
			next++
		}
		r2b[b2r[b]] = int16(b)
	}
	return b2r, r2b
}()

// tokenBytes returns the bytes a token stands for: the bytes of its
// characters under the byte-to-unicode map, or the token's own UTF-8 text when
// some character stands for no byte (a special token).
func tokenBytes(tok string) []byte {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		if r < 0 || int(r) >= len(gpt2RuneBytes) || gpt2RuneBytes[r] < 0 {
			return []byte(tok)
		}
		out = append(out, byte(gpt2RuneBytes[r]))
	}
	return out
}

// LoadGPT2BPE reads GPT-2's encoder.json and vocab.bpe from the given paths;
// see ParseGPT2BPE for the checks. Files over 64 MiB are refused before they
// are read.
func LoadGPT2BPE(encoderJSON, vocabBPE string) (*GPT2BPE, error) {
	data, err := readLimited(encoderJSON, vocabBPE)
	if err != nil {
		return nil, err
	}
	return parseGPT2BPE(data[0], data[1], encoderJSON, vocabBPE)
}

// LoadGPT2BPEDir reads encoder.json and vocab.bpe from dir, such as the
// directory of the gpt2-bpe dataset that datasets.Find returns.
func LoadGPT2BPEDir(dir string) (*GPT2BPE, error) {
	return LoadGPT2BPE(filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"))
}

// readLimited reads the files at paths, each of at most MaxFileBytes bytes
// (see readCapped).
func readLimited(paths ...string) ([][]byte, error) {
	out := make([][]byte, len(paths))
	for i, path := range paths {
		data, err := readCapped(path)
		if err != nil {
			return nil, errors.Wrap(err, "gpt2 bpe")
		}
		out[i] = data
	}
	return out, nil
}

// ParseGPT2BPE builds the encoding from the contents of encoder.json and
// vocab.bpe. It checks that encoder.json is one JSON object of distinct
// tokens whose ids are the integers 0 to n-1, each used once; that it holds
// the token of every single byte; and that each line of vocab.bpe after an
// optional "#version" line is a pair "LEFT RIGHT" (blank lines are skipped)
// whose two symbols and their concatenation are tokens, no pair repeating. The
// rank of a merge is its position among the pairs.
func ParseGPT2BPE(encoderJSON, vocabBPE []byte) (*GPT2BPE, error) {
	return parseGPT2BPE(encoderJSON, vocabBPE, "encoder.json", "vocab.bpe")
}

func parseGPT2BPE(encData, bpeData []byte, encName, bpeName string) (*GPT2BPE, error) {
	if len(encData) > maxGPT2File {
		return nil, errors.Errorf("gpt2 bpe: %s: %d bytes, more than the %d allowed", encName, len(encData), maxGPT2File)
	}
	if len(bpeData) > maxGPT2File {
		return nil, errors.Errorf("gpt2 bpe: %s: %d bytes, more than the %d allowed", bpeName, len(bpeData), maxGPT2File)
	}
	ids, tokens, err := parseGPT2Encoder(encData)
	if err != nil {
		return nil, errors.Wrapf(err, "gpt2 bpe: %s", encName)
	}
	b := &GPT2BPE{ids: ids, tokens: tokens, off: make([]int32, len(tokens)+1)}
	for i, tok := range tokens {
		b.raw = append(b.raw, tokenBytes(tok)...)
		b.off[i+1] = int32(len(b.raw))
	}
	for c := 0; c < 256; c++ {
		id, ok := ids[string(gpt2ByteRunes[c])]
		if !ok {
			return nil, errors.Errorf("gpt2 bpe: %s: no token for byte 0x%02x (%q)", encName, c, string(gpt2ByteRunes[c]))
		}
		b.byteID[c] = id
	}
	if b.merges, err = parseGPT2Merges(bpeData, ids); err != nil {
		return nil, errors.Wrapf(err, "gpt2 bpe: %s", bpeName)
	}
	return b, nil
}

// parseGPT2Encoder reads encoder.json: a JSON object of tokens and their ids.
func parseGPT2Encoder(data []byte) (map[string]int32, []string, error) {
	if !utf8.Valid(data) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	ids := map[string]int32{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, errors.Wrap(err, "bad JSON")
		}
		tok, _ := t.(string) // keys are always strings
		if tok == "" {
			return nil, nil, errors.New("an empty token")
		}
		t, err = dec.Token()
		if err != nil {
			return nil, nil, errors.Wrap(err, "bad JSON")
		}
		num, ok := t.(json.Number)
		if !ok {
			return nil, nil, errors.Errorf("token %q: the id is not a number", tok)
		}
		id, err := strconv.ParseInt(string(num), 10, 32)
		if err != nil || id < 0 {
			return nil, nil, errors.Errorf("token %q: id %s is not an integer from 0 to 2^31-1", tok, num)
		}
		if _, dup := ids[tok]; dup {
			return nil, nil, errors.Errorf("token %q appears twice", tok)
		}
		ids[tok] = int32(id)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, errors.Wrap(err, "bad JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("trailing data after the JSON object")
	}
	// The ids must be 0..n-1, each once; n is bounded by the entries read.
	tokens := make([]string, len(ids))
	for tok, id := range ids {
		if int(id) >= len(tokens) {
			return nil, nil, errors.Errorf("token %q: id %d is not below the number of tokens, %d", tok, id, len(tokens))
		}
		if tokens[id] != "" {
			a, b := tokens[id], tok
			if b < a {
				a, b = b, a
			}
			return nil, nil, errors.Errorf("tokens %q and %q have the same id %d", a, b, id)
		}
		tokens[id] = tok
	}
	return ids, tokens, nil
}

// parseGPT2Merges reads vocab.bpe against the tokens of encoder.json.
func parseGPT2Merges(data []byte, ids map[string]int32) (map[uint64]uint64, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	lines := strings.Split(string(data), "\n")
	merges := make(map[uint64]uint64, min(len(lines), len(ids)))
	firstLine := make(map[uint64]int, min(len(lines), len(ids)))
	rank := 0
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, errors.Errorf("line %d: want two symbols separated by a space, got %q", i+1, line)
		}
		left, ok1 := ids[f[0]]
		right, ok2 := ids[f[1]]
		merged, ok3 := ids[f[0]+f[1]]
		switch {
		case !ok1:
			return nil, errors.Errorf("line %d: %q is not a token of the encoder", i+1, f[0])
		case !ok2:
			return nil, errors.Errorf("line %d: %q is not a token of the encoder", i+1, f[1])
		case !ok3:
			return nil, errors.Errorf("line %d: the merge %q is not a token of the encoder", i+1, f[0]+f[1])
		}
		k := gpt2Pair(left, right)
		if prev, dup := firstLine[k]; dup {
			return nil, errors.Errorf("line %d: the pair %q %q repeats line %d", i+1, f[0], f[1], prev)
		}
		firstLine[k] = i + 1
		merges[k] = uint64(rank)<<32 | uint64(uint32(merged))
		rank++
	}
	return merges, nil
}

// gpt2Pair is the key of the pair of ids (left, right).
func gpt2Pair(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// Len returns the number of tokens, special tokens included (GPT2VocabSize for
// GPT-2's files).
func (b *GPT2BPE) Len() int { return len(b.tokens) }

// ID returns the id of tok, a token as encoder.json writes it (bytes as
// characters: "Ġthe" for " the"), and whether it exists.
func (b *GPT2BPE) ID(tok string) (int, bool) {
	id, ok := b.ids[tok]
	return int(id), ok
}

// Token returns the token with id id as encoder.json writes it, and false when
// id is out of range.
func (b *GPT2BPE) Token(id int) (string, bool) {
	if id < 0 || id >= len(b.tokens) {
		return "", false
	}
	return b.tokens[id], true
}

// EndOfText returns the id of GPT2EndOfText (GPT2EndOfTextID for GPT-2's
// files), or -1 when the vocabulary has no such token. Encode never produces
// it: "<|endoftext|>" inside a text is encoded as ordinary text, as encoder.py
// does; callers insert the id between documents themselves.
func (b *GPT2BPE) EndOfText() int {
	if id, ok := b.ids[GPT2EndOfText]; ok {
		return int(id)
	}
	return -1
}

// Encode returns the token ids of text, whose bytes need not be valid UTF-8.
func (b *GPT2BPE) Encode(text string) []int {
	return b.AppendEncode(make([]int, 0, len(text)/4+1), text)
}

// AppendEncode appends the token ids of text to dst and returns the extended
// slice.
func (b *GPT2BPE) AppendEncode(dst []int, text string) []int {
	for i := 0; i < len(text); {
		j := gpt2PieceEnd(text, i)
		dst = b.appendPiece(dst, text[i:j])
		i = j
	}
	return dst
}

// appendPiece appends the ids of one pre-tokenizer piece.
func (b *GPT2BPE) appendPiece(dst []int, piece string) []int {
	if len(piece) == 1 {
		return append(dst, int(b.byteID[piece[0]]))
	}
	cacheable := len(piece) <= gpt2CacheMaxLen
	if cacheable {
		b.mu.Lock()
		ids, ok := b.cache[piece]
		b.mu.Unlock()
		if ok {
			return append(dst, ids...)
		}
	}
	var buf [gpt2ShortPiece]int32
	syms := buf[:0]
	if len(piece) > len(buf) {
		syms = make([]int32, 0, len(piece))
	}
	for i := 0; i < len(piece); i++ {
		syms = append(syms, b.byteID[piece[i]])
	}
	if len(syms) <= gpt2ShortPiece {
		syms = b.mergeShort(syms)
	} else {
		syms = b.mergeLong(syms)
	}
	start := len(dst)
	for _, id := range syms {
		dst = append(dst, int(id))
	}
	if cacheable {
		ids := append([]int(nil), dst[start:]...)
		key := strings.Clone(piece) // do not keep the caller's text alive
		b.mu.Lock()
		if b.cache == nil || len(b.cache) >= gpt2CacheSize {
			b.cache = make(map[string][]int, 1024)
		}
		b.cache[key] = ids
		b.mu.Unlock()
	}
	return dst
}

// mergeShort applies the merges to syms in place, the way encoder.py does:
// each round finds the adjacent pair of lowest rank and merges all its
// occurrences from left to right. Each round costs one pass over the pairs.
func (b *GPT2BPE) mergeShort(syms []int32) []int32 {
	for len(syms) > 1 {
		best := ^uint64(0) // rank<<32 | merged id; ranks are distinct
		var left, right int32
		for i := 0; i+1 < len(syms); i++ {
			if m, ok := b.merges[gpt2Pair(syms[i], syms[i+1])]; ok && m < best {
				best, left, right = m, syms[i], syms[i+1]
			}
		}
		if best == ^uint64(0) {
			break
		}
		merged := int32(uint32(best))
		w := 0
		for i := 0; i < len(syms); w++ {
			if i+1 < len(syms) && syms[i] == left && syms[i+1] == right {
				syms[w] = merged
				i += 2
			} else {
				syms[w] = syms[i]
				i++
			}
		}
		syms = syms[:w]
	}
	return syms
}

// gpt2Cand is a candidate merge of the symbol at pos with its right
// neighbour, whose pair has rank rank.
type gpt2Cand struct {
	rank uint32
	pos  int32
}

// gpt2Cands is a min-heap of candidates by rank, then position.
type gpt2Cands []gpt2Cand

func (h gpt2Cands) Len() int { return len(h) }
func (h gpt2Cands) Less(i, j int) bool {
	return h[i].rank < h[j].rank || h[i].rank == h[j].rank && h[i].pos < h[j].pos
}
func (h gpt2Cands) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *gpt2Cands) Push(x any)   { *h = append(*h, x.(gpt2Cand)) }
func (h *gpt2Cands) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeLong gives the result of mergeShort in O(n log n) for long pieces. The
// symbols form a linked list; a heap holds a candidate for every adjacent pair
// that is a merge, stale ones being skipped when popped. A round takes all
// candidates of the lowest rank, in order of position, before it merges any:
// a merge creates pairs that contain the merged symbol, never the round's pair
// itself, so the round merges exactly the occurrences that encoder.py merges,
// and new pairs of lower rank wait for the next round as there.
func (b *GPT2BPE) mergeLong(syms []int32) []int32 {
	n := len(syms)
	next := make([]int32, n)
	prev := make([]int32, n)
	for i := range syms {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	rankAt := func(i int32) (uint64, bool) {
		j := next[i]
		if syms[i] < 0 || j < 0 {
			return 0, false
		}
		m, ok := b.merges[gpt2Pair(syms[i], syms[j])]
		return m, ok
	}
	h := make(gpt2Cands, 0, n)
	for i := int32(0); i+1 < int32(n); i++ {
		if m, ok := rankAt(i); ok {
			h = append(h, gpt2Cand{uint32(m >> 32), i})
		}
	}
	heap.Init(&h)
	push := func(i int32) {
		if m, ok := rankAt(i); ok {
			heap.Push(&h, gpt2Cand{uint32(m >> 32), i})
		}
	}
	valid := func(c gpt2Cand) bool {
		m, ok := rankAt(c.pos)
		return ok && uint32(m>>32) == c.rank
	}
	var round []gpt2Cand
	for len(h) > 0 {
		c := heap.Pop(&h).(gpt2Cand)
		if !valid(c) {
			continue
		}
		round = append(round[:0], c)
		for len(h) > 0 && h[0].rank == c.rank {
			round = append(round, heap.Pop(&h).(gpt2Cand))
		}
		for _, c := range round {
			m, ok := rankAt(c.pos)
			if !ok || uint32(m>>32) != c.rank {
				continue
			}
			i := c.pos
			j := next[i]
			syms[i], syms[j] = int32(uint32(m)), -1
			next[i] = next[j]
			if next[j] >= 0 {
				prev[next[j]] = i
			}
			if prev[i] >= 0 {
				push(prev[i])
			}
			push(i)
		}
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// Decode returns the bytes that ids stand for. An id out of range is an
// error that gives its position.
func (b *GPT2BPE) Decode(ids []int) ([]byte, error) {
	n := 0
	for p, id := range ids {
		if id < 0 || id >= len(b.tokens) {
			return nil, errors.Errorf("gpt2 bpe: id %d at position %d is not in [0, %d)", id, p, len(b.tokens))
		}
		n += int(b.off[id+1] - b.off[id])
	}
	out := make([]byte, 0, n)
	for _, id := range ids {
		out = append(out, b.raw[b.off[id]:b.off[id+1]]...)
	}
	return out, nil
}
