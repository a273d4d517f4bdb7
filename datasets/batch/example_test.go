package batch_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/triadml/triad/datasets/batch"
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
		fmt.Println(bt.Shape, bt.Indices)
	}
	// Output:
	// shapes: [{4 4} {8 8}]
	// {4 4} [0 2]
	// {8 8} [3 1]
}
