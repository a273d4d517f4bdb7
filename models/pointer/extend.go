package pointer

import "strconv"

// Lookup returns the vocabulary id of a word and whether the word is in the
// vocabulary (a datasets/vocab.Vocab's ID method).
type Lookup func(word string) (int, bool)

// ExtendSource returns a source's extended ids over a vocabulary of size vocab:
// a word of the vocabulary keeps its id; the k-th distinct word outside it (in
// order of first occurrence) gets vocab+k, every occurrence the same id. oovs
// lists those words, oovs[k] for id vocab+k.
func ExtendSource(words []string, lookup Lookup, vocab int) (ids []int, oovs []string) {
	ids = make([]int, len(words))
	index := map[string]int{}
	for i, w := range words {
		if id, ok := lookup(w); ok && id < vocab {
			ids[i] = id
			continue
		}
		k, seen := index[w]
		if !seen {
			k = len(oovs)
			index[w] = k
			oovs = append(oovs, w)
		}
		ids[i] = vocab + k
	}
	return ids, oovs
}

// ExtendTarget returns a target's extended ids given its source's oovs (from
// ExtendSource): a vocabulary word keeps its id, a word outside the vocabulary
// that the source holds gets the source's id for it, and any other word is unk.
func ExtendTarget(words []string, lookup Lookup, oovs []string, vocab, unk int) []int {
	index := make(map[string]int, len(oovs))
	for k, w := range oovs {
		index[w] = k
	}
	ids := make([]int, len(words))
	for i, w := range words {
		if id, ok := lookup(w); ok && id < vocab {
			ids[i] = id
		} else if k, ok := index[w]; ok {
			ids[i] = vocab + k
		} else {
			ids[i] = unk
		}
	}
	return ids
}

// Words maps extended ids back to words: ids below vocab through token, id
// vocab+k to oovs[k]; an id with no word becomes "<id N>".
func Words(ids []int, token func(id int) (string, bool), oovs []string, vocab int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		switch {
		case id >= vocab && id-vocab < len(oovs):
			out[i] = oovs[id-vocab]
		default:
			w, ok := "", false
			if id >= 0 && id < vocab {
				w, ok = token(id)
			}
			if !ok {
				w = "<id " + strconv.Itoa(id) + ">"
			}
			out[i] = w
		}
	}
	return out
}
