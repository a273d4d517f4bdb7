// Package vocab turns text into token sequences and token sequences into integer
// ids, and back.
//
// Three tokenizers implement [Tokenizer]:
//
//   - [CharTokenizer] splits a string into its Unicode code points; valid UTF-8
//     round-trips exactly.
//   - [WordTokenizer] splits text into words, numbers and single punctuation or
//     symbol characters using Unicode character classes, optionally lowercasing.
//     Apostrophes between letters ("don't", "O'Neill"), hyphens inside words
//     ("t-shirt") and decimal or thousands separators between digits ("3.5",
//     "1,000") stay inside their word.
//   - [BPE] is byte-pair encoding as in Sennrich, Haddow and Birch (2016), "Neural
//     Machine Translation of Rare Words with Subword Units" (ACL 2016): merges are
//     learned from word counts ([TrainBPE]) up to a chosen number of distinct
//     symbols, with an end-of-word marker ([EndOfWord]) on the last symbol of each
//     word, and applied to new words in the order they were learned.
//
// [GPT2BPE] is GPT-2's byte-level byte-pair encoding, read from OpenAI's
// encoder.json and vocab.bpe (the gpt2-bpe dataset of package datasets). It maps
// any bytes, valid UTF-8 or not, straight to GPT-2's token ids and back, with
// the pre-tokenizer [GPT2PreTokenize], and gives the same ids as openai/gpt-2's
// encoder.py:
//
//	dir, err := datasets.Find("gpt2-bpe")
//	enc, err := vocab.LoadGPT2BPEDir(dir)
//	ids := enc.Encode("Hello world") // [15496 995]
//	text, err := enc.Decode(ids)
//
// A [Vocab] maps tokens to dense ids. Ids 0 to 3 are always the special tokens
// [Pad], [Unk], [BOS] and [EOS]; the others are ordered by count (descending), then
// by token (ascending bytes), so the same counts always give the same ids.
//
// Both vocabularies and BPE merge tables are stored as JSON, written atomically
// (temporary file, fsync, rename), and validated when read: a corrupt file gives an
// error that names the file and what is wrong with it.
//
// A typical pipeline for a translation corpus:
//
//	words := vocab.WordTokenizer{Lower: true}
//	bpe, err := vocab.TrainBPE(lines, vocab.BPEConfig{VocabSize: 8000, Pre: words})
//	counts := vocab.CountTokens(bpe, lines)
//	v, err := vocab.Build(counts, vocab.BuildOptions{MinFreq: 1})
//	ids := v.Encode(bpe.Tokenize("A man in a blue shirt."))
//	text := bpe.Detokenize(v.Decode(ids))
package vocab
