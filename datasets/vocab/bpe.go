package vocab

import (
	"container/heap"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// EndOfWord marks the last symbol of a word in BPE symbols and tokens: the word
// "lower" may be encoded as ["low", "er</w>"]. It is what Sennrich et al. (2016)
// use.
const EndOfWord = "</w>"

// escapeRune is a private-use character that BPE uses to escape words that
// contain EndOfWord literally (and the escape character itself), so that no
// symbol other than a word's last one ever ends with EndOfWord and decoding
// stays unambiguous. Natural text never needs it.
const escapeRune = '\uE000'

// escapeWord rewrites w so that it no longer contains EndOfWord: every
// escapeRune is doubled, and the "/" of every "</w>" is preceded by escapeRune.
func escapeWord(w string) string {
	if !strings.ContainsRune(w, escapeRune) && !strings.Contains(w, EndOfWord) {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		switch {
		case r == escapeRune:
			b.WriteRune(escapeRune)
			b.WriteRune(escapeRune)
		case r == '/' && i > 0 && w[i-1] == '<' && strings.HasPrefix(w[i:], "/w>"):
			b.WriteRune(escapeRune)
			b.WriteByte('/')
		default:
			b.WriteString(w[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unescapeWord inverts escapeWord. An escape character followed by anything else
// than itself or "/" (which escapeWord never writes) is kept as it is.
func unescapeWord(w string) string {
	if !strings.ContainsRune(w, escapeRune) {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		if r == escapeRune && i+size < len(w) {
			next, nsize := utf8.DecodeRuneInString(w[i+size:])
			if next == escapeRune || next == '/' {
				b.WriteRune(next)
				i += size + nsize
				continue
			}
		}
		b.WriteString(w[i : i+size])
		i += size
	}
	return b.String()
}

// initialSymbols splits an (escaped) word into runes and marks the last one with
// EndOfWord.
func initialSymbols(w string) []string {
	syms := make([]string, 0, len(w))
	for _, r := range w {
		syms = append(syms, string(r))
	}
	if len(syms) > 0 {
		syms[len(syms)-1] += EndOfWord
	}
	return syms
}

// Merge is one learned BPE merge: the adjacent symbols Left and Right become the
// symbol Left+Right.
type Merge struct {
	Left, Right string
}

// BPEConfig configures TrainBPE.
type BPEConfig struct {
	// VocabSize is the number of distinct symbols to reach: the initial alphabet
	// (every character seen, in a word-final and a word-internal variant where
	// both occur) plus the new symbols made by merges. Training stops earlier
	// when no pair occurs MinFrequency times. It does not count special tokens.
	VocabSize int
	// MinFrequency is the smallest weighted count a pair needs to be merged;
	// 0 means 2, as in Sennrich et al.'s reference implementation.
	MinFrequency int
	// Pre splits lines into words before BPE; nil splits at whitespace. The
	// trained BPE uses the same pre-tokenizer.
	Pre Tokenizer
}

// BPE is a byte-pair encoding model (Sennrich et al. 2016): a pre-tokenizer that
// splits text into words, and an ordered list of merges applied to the characters
// of each word. It implements Tokenizer: tokens are subword symbols, the last
// symbol of each word ending with EndOfWord.
//
// For every string s (after invalid UTF-8 becomes U+FFFD),
// DecodeWords(EncodeWords(words)) == words, and so Detokenize(Tokenize(s)) equals
// the pre-tokenizer's own Detokenize(Tokenize(s)); with the default whitespace
// pre-tokenizer that is the words of s joined by single spaces.
//
// A BPE is safe for concurrent use once trained or loaded, as long as Pre is not
// changed meanwhile.
type BPE struct {
	// Pre splits text into words; nil splits at Unicode whitespace.
	Pre Tokenizer

	merges   []Merge
	ranks    map[Merge]int
	alphabet []string

	mu    sync.Mutex
	cache map[string][]string
}

// maxCache bounds the number of words whose encoding a BPE remembers.
const maxCache = 1 << 16

// newBPE builds a BPE from its merges and alphabet, which the caller has checked.
func newBPE(pre Tokenizer, merges []Merge, alphabet []string) *BPE {
	b := &BPE{Pre: pre, merges: merges, alphabet: alphabet, ranks: make(map[Merge]int, len(merges))}
	for i, m := range merges {
		b.ranks[m] = i
	}
	return b
}

// Merges returns a copy of the learned merges in the order they were learned
// (rank 0 first).
func (b *BPE) Merges() []Merge {
	return append([]Merge(nil), b.merges...)
}

// Alphabet returns the initial symbols (single characters, some with EndOfWord)
// seen in training, in ascending byte order.
func (b *BPE) Alphabet() []string {
	return append([]string(nil), b.alphabet...)
}

// Symbols returns every symbol the model can produce from training characters:
// the alphabet followed by the results of the merges in rank order, without
// duplicates. Its length is at most the larger of the VocabSize used in
// training and the alphabet's size.
func (b *BPE) Symbols() []string {
	seen := make(map[string]bool, len(b.alphabet)+len(b.merges))
	out := make([]string, 0, len(b.alphabet)+len(b.merges))
	for _, s := range b.alphabet {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, m := range b.merges {
		s := m.Left + m.Right
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (b *BPE) words(s string) []string {
	if b.Pre == nil {
		return strings.Fields(strings.ToValidUTF8(s, "\uFFFD"))
	}
	return b.Pre.Tokenize(s)
}

// Tokenize splits s into words with the pre-tokenizer and each word into subword
// symbols.
func (b *BPE) Tokenize(s string) []string {
	return b.EncodeWords(b.words(s))
}

// Detokenize joins symbols into words (DecodeWords) and the words into text with
// the pre-tokenizer's Detokenize, or single spaces without one.
func (b *BPE) Detokenize(tokens []string) string {
	words := b.DecodeWords(tokens)
	if b.Pre == nil {
		return strings.Join(words, " ")
	}
	return b.Pre.Detokenize(words)
}

// EncodeWords encodes each word and concatenates the symbols. Empty words are
// skipped.
func (b *BPE) EncodeWords(words []string) []string {
	var out []string
	for _, w := range words {
		out = append(out, b.EncodeWord(w)...)
	}
	return out
}

// EncodeWord splits one word into symbols: it starts from the characters (the
// last carrying EndOfWord) and, while some adjacent pair is a learned merge,
// merges every occurrence (left to right) of the pair with the lowest rank.
// Characters never seen in training stay single symbols. An empty word gives no
// symbols.
func (b *BPE) EncodeWord(w string) []string {
	if w == "" {
		return nil
	}
	w = strings.ToValidUTF8(w, "\uFFFD")
	b.mu.Lock()
	cached, ok := b.cache[w]
	b.mu.Unlock()
	if ok {
		return append([]string(nil), cached...)
	}
	syms := b.applyMerges(initialSymbols(escapeWord(w)))
	b.mu.Lock()
	if b.cache == nil || len(b.cache) >= maxCache {
		b.cache = make(map[string][]string)
	}
	b.cache[w] = syms
	b.mu.Unlock()
	return append([]string(nil), syms...)
}

func (b *BPE) applyMerges(syms []string) []string {
	for len(syms) > 1 {
		best, bestRank := Merge{}, -1
		for i := 0; i+1 < len(syms); i++ {
			m := Merge{syms[i], syms[i+1]}
			if r, ok := b.ranks[m]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = m, r
			}
		}
		if bestRank < 0 {
			break
		}
		out := syms[:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == best.Left && syms[i+1] == best.Right {
				out = append(out, best.Left+best.Right)
				i++
				continue
			}
			out = append(out, syms[i])
		}
		syms = out
	}
	return syms
}

// DecodeWords joins symbols into words: a symbol ending with EndOfWord ends a
// word. Symbols after the last word end (which a model never produces) form one
// more word.
func (b *BPE) DecodeWords(tokens []string) []string {
	var words []string
	var cur strings.Builder
	for _, t := range tokens {
		if strings.HasSuffix(t, EndOfWord) {
			cur.WriteString(t[:len(t)-len(EndOfWord)])
			words = append(words, unescapeWord(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteString(t)
	}
	if cur.Len() > 0 {
		words = append(words, unescapeWord(cur.String()))
	}
	return words
}

// TrainBPE learns BPE merges from the words of lines (split by cfg.Pre).
func TrainBPE(lines []string, cfg BPEConfig) (*BPE, error) {
	tmp := &BPE{Pre: cfg.Pre}
	counts := make(map[string]int)
	for _, l := range lines {
		for _, w := range tmp.words(l) {
			counts[w]++
		}
	}
	return TrainBPEFromCounts(counts, cfg)
}

// TrainBPEFromCounts learns BPE merges from word counts (Sennrich et al. 2016,
// Algorithm 1). Each word starts as its characters, the last one marked with
// EndOfWord. At each step the adjacent symbol pair with the largest count
// (summed over words, weighted by word count) is merged everywhere; ties are
// broken by the pair's left symbol, then its right symbol, in ascending byte
// order, so training is deterministic. Training stops when the number of
// distinct symbols reaches cfg.VocabSize or no pair occurs cfg.MinFrequency
// times. Words with a count of zero or less and empty words are ignored.
func TrainBPEFromCounts(counts map[string]int, cfg BPEConfig) (*BPE, error) {
	b, _, err := trainBPE(counts, cfg)
	return b, err
}

// bpeWord is one distinct training word as symbol ids, with its count.
type bpeWord struct {
	syms  []int32
	freq  int
	stamp int // last merge that visited the word
}

// pairItem is a heap entry: a pair and its count when pushed (entries whose count
// is no longer current are skipped when popped).
type pairItem struct {
	key   uint64
	count int
}

type pairHeap struct {
	items []pairItem
	syms  []string
}

func (h *pairHeap) Len() int { return len(h.items) }
func (h *pairHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.count != b.count {
		return a.count > b.count
	}
	al, ar := h.syms[a.key>>32], h.syms[uint32(a.key)]
	bl, br := h.syms[b.key>>32], h.syms[uint32(b.key)]
	if al != bl {
		return al < bl
	}
	return ar < br
}
func (h *pairHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *pairHeap) Push(x any)    { h.items = append(h.items, x.(pairItem)) }
func (h *pairHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

func pairKey(a, b int32) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

// trainBPE is TrainBPEFromCounts that also returns each training word's final
// segmentation (for tests).
func trainBPE(counts map[string]int, cfg BPEConfig) (*BPE, map[string][]string, error) {
	if cfg.VocabSize <= 0 {
		return nil, nil, errors.Errorf("bpe: VocabSize must be positive, got %d", cfg.VocabSize)
	}
	minFreq := cfg.MinFrequency
	if minFreq == 0 {
		minFreq = 2
	}
	if minFreq < 0 {
		return nil, nil, errors.Errorf("bpe: MinFrequency must not be negative, got %d", minFreq)
	}

	// Distinct words in a fixed order; invalid UTF-8 is replaced first, which may
	// make two keys one word.
	merged := make(map[string]int, len(counts))
	for w, c := range counts {
		if c > 0 && w != "" {
			merged[escapeWord(strings.ToValidUTF8(w, "\uFFFD"))] += c
		}
	}
	keys := make([]string, 0, len(merged))
	for w := range merged {
		keys = append(keys, w)
	}
	sort.Strings(keys)

	var syms []string
	symID := make(map[string]int32)
	intern := func(s string) int32 {
		if id, ok := symID[s]; ok {
			return id
		}
		id := int32(len(syms))
		syms = append(syms, s)
		symID[s] = id
		return id
	}
	words := make([]bpeWord, len(keys))
	for i, w := range keys {
		init := initialSymbols(w)
		ids := make([]int32, len(init))
		for j, s := range init {
			ids[j] = intern(s)
		}
		words[i] = bpeWord{syms: ids, freq: merged[w], stamp: -1}
	}
	alphabet := append([]string(nil), syms...)
	sort.Strings(alphabet)

	pairCount := make(map[uint64]int)
	where := make(map[uint64][]int32)
	for wi, w := range words {
		for j := 0; j+1 < len(w.syms); j++ {
			k := pairKey(w.syms[j], w.syms[j+1])
			pairCount[k] += w.freq
			if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(wi) {
				where[k] = append(l, int32(wi))
			}
		}
	}
	h := &pairHeap{syms: syms}
	h.items = make([]pairItem, 0, len(pairCount))
	for k, c := range pairCount {
		h.items = append(h.items, pairItem{k, c})
	}
	heap.Init(h)

	var merges []Merge
	delta := make(map[uint64]int)
	for len(syms) < cfg.VocabSize && h.Len() > 0 {
		top := heap.Pop(h).(pairItem)
		if pairCount[top.key] != top.count {
			continue // stale entry
		}
		if top.count < minFreq {
			break
		}
		a, c := int32(top.key>>32), int32(uint32(top.key))
		m := Merge{syms[a], syms[c]}
		merges = append(merges, m)
		n := intern(m.Left + m.Right)
		h.syms = syms
		step := len(merges)

		clear(delta)
		for _, wi := range where[top.key] {
			w := &words[wi]
			if w.stamp == step {
				continue
			}
			w.stamp = step
			found := false
			for j := 0; j+1 < len(w.syms); j++ {
				if w.syms[j] == a && w.syms[j+1] == c {
					found = true
					break
				}
			}
			if !found {
				continue // stale: an earlier merge removed the pair from this word
			}
			for j := 0; j+1 < len(w.syms); j++ {
				delta[pairKey(w.syms[j], w.syms[j+1])] -= w.freq
			}
			out := w.syms[:0]
			for j := 0; j < len(w.syms); j++ {
				if j+1 < len(w.syms) && w.syms[j] == a && w.syms[j+1] == c {
					out = append(out, n)
					j++
					continue
				}
				out = append(out, w.syms[j])
			}
			w.syms = out
			for j := 0; j+1 < len(w.syms); j++ {
				k := pairKey(w.syms[j], w.syms[j+1])
				delta[k] += w.freq
				if l := where[k]; len(l) == 0 || l[len(l)-1] != wi {
					where[k] = append(l, wi)
				}
			}
		}
		delete(where, top.key)
		for k, d := range delta {
			if d == 0 {
				continue
			}
			nc := pairCount[k] + d
			if nc <= 0 {
				delete(pairCount, k)
				continue
			}
			pairCount[k] = nc
			heap.Push(h, pairItem{k, nc})
		}
	}

	segs := make(map[string][]string, len(words))
	for i, w := range words {
		s := make([]string, len(w.syms))
		for j, id := range w.syms {
			s[j] = syms[id]
		}
		segs[unescapeWord(keys[i])] = s
	}
	return newBPE(cfg.Pre, merges, alphabet), segs, nil
}
