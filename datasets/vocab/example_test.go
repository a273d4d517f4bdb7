package vocab_test

import (
	"fmt"

	"github.com/triadml/triad/datasets/vocab"
)

func Example() {
	lines := []string{
		"A man in a blue shirt is standing on a ladder.",
		"A man in an orange hat is standing.",
		"Two men are standing in a kitchen.",
	}
	words := vocab.WordTokenizer{Lower: true}
	bpe, err := vocab.TrainBPE(lines, vocab.BPEConfig{VocabSize: 60, Pre: words})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := vocab.Build(vocab.CountTokens(bpe, lines), vocab.BuildOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	toks := bpe.Tokenize("Two men standing.")
	ids := v.Encode(toks)
	fmt.Println(toks)
	fmt.Println(bpe.Detokenize(v.Decode(ids)))
	// Output:
	// [t w o</w> m en</w> standing</w> .</w>]
	// two men standing.
}
