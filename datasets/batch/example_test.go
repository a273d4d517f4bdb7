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
		rows, _ := batch.Gather(tgt, bt.Indices, b.BatchSize())
		in, out, mask, _ := batch.TeacherForcing(rows, bt.Shape.Tgt, 0, 2, 3)
		fmt.Println(bt.Shape, bt.Indices, in, out, mask)
	}
	// Output:
	// shapes: [{4 4} {8 8}]
	// {4 4} [0 2] [2 4 0 0 2 10 11 0] [4 3 0 0 10 11 3 0] [1 1 0 0 1 1 1 0]
	// {8 8} [3 1] [2 12 13 14 15 16 17 18 2 5 6 7 8 9 0 0] [12 13 14 15 16 17 18 3 5 6 7 8 9 3 0 0] [1 1 1 1 1 1 1 1 1 1 1 1 1 1 0 0]
}
