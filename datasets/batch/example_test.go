package batch_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
)

func ExampleBucketer() {
	src := [][]int{{4, 5}, {6, 7, 8, 9, 10, 11}, {12}, {13, 14, 15}}
	tgt := [][]int{{4}, {5, 6, 7, 8, 9}, {10, 11}, {12, 13, 14, 15, 16, 17, 18}}
	srcLens, tgtLens := make([]int, len(src)), make([]int, len(tgt))
	for i := range src {
		srcLens[i], tgtLens[i] = len(src[i]), len(tgt[i])+1 // +1: BOS or EOS
	}
	b, err := batch.NewBucketer(srcLens, tgtLens, batch.BucketConfig{
		SrcBounds: []int{4, 8}, TgtBounds: []int{4, 8}, BatchSize: 2, Joint: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("shapes:", b.Shapes())
	for _, bt := range b.Epoch(rand.New(rand.NewPCG(1, 0))) {
		rows, _ := batch.Gather(tgt, bt.Indices, b.BatchSize())
		in, out, mask, _ := batch.TeacherForcing(rows, bt.Shape.Tgt, 0, 2, 3)
		fmt.Println(bt.Shape, bt.Indices, in, out, mask)
	}
	// Output:
	// shapes: [{4 4} {8 8}]
	// {4 4} [0 2] [2 4 0 0 2 10 11 0] [4 3 0 0 10 11 3 0] [1 1 0 0 1 1 1 0]
	// {8 8} [3 1] [2 12 13 14 15 16 17 18 2 5 6 7 8 9 0 0] [12 13 14 15 16 17 18 3 5 6 7 8 9 3 0 0] [1 1 1 1 1 1 1 1 1 1 1 1 1 1 0 0]
}

// From raw text to a padded batch: tokenise, build a vocabulary from the
// counts, encode (an unseen word becomes <unk>), then pad with <bos> and <eos>
// into a B×T array with a mask of the real positions.
func ExamplePadBOSEOS() {
	lines := []string{"The cat sat.", "The dog sat on the mat.", "A cat!"}
	words := vocab.WordTokenizer{Lower: true}
	v, err := vocab.Build(vocab.CountTokens(words, lines), vocab.BuildOptions{MinFreq: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("vocabulary:", v.Tokens())
	var seqs [][]int
	for _, l := range lines {
		seqs = append(seqs, v.Encode(words.Tokenize(l)))
	}
	ids, mask, lengths := batch.PadBOSEOS(seqs, 0, vocab.PadID, vocab.BOSID, vocab.EOSID)
	t := len(ids) / len(seqs)
	for b := range seqs {
		fmt.Println(ids[b*t:(b+1)*t], mask[b*t:(b+1)*t], lengths[b], v.Decode(ids[b*t:b*t+lengths[b]]))
	}
	// "the" is counted 3 times and comes first; ".", "cat" and "sat", twice
	// each, follow in byte order; the words seen once fall below MinFreq.

	// Output:
	// vocabulary: [<pad> <unk> <bos> <eos> the . cat sat]
	// [2 4 6 7 5 3 0 0 0] [1 1 1 1 1 1 0 0 0] 6 [<bos> the cat sat . <eos>]
	// [2 4 1 7 1 4 1 5 3] [1 1 1 1 1 1 1 1 1] 9 [<bos> the <unk> sat <unk> the <unk> . <eos>]
	// [2 1 6 1 3 0 0 0 0] [1 1 1 1 1 0 0 0 0] 5 [<bos> <unk> cat <unk> <eos>]
}
