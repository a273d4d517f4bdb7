package batch

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

func TestBucketerByHand(t *testing.T) {
	src := []int{3, 9, 4, 12, 7, 2}
	tgt := []int{4, 8, 11, 5, 6, 3}
	bounds := []int{5, 10, 15}
	grid, err := NewBucketer(src, tgt, BucketConfig{SrcBounds: bounds, TgtBounds: bounds, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Example 0 (3, 4) -> (5, 5); 1 (9, 8) -> (10, 10); 2 (4, 11) -> (5, 15);
	// 3 (12, 5) -> (15, 5); 4 (7, 6) -> (10, 10); 5 (2, 3) -> (5, 5).
	wantShapes := []Shape{{5, 5}, {5, 15}, {10, 10}, {15, 5}}
	if got := grid.Shapes(); !reflect.DeepEqual(got, wantShapes) {
		t.Fatalf("grid shapes %v, want %v", got, wantShapes)
	}
	if !reflect.DeepEqual(grid.members, [][]int{{0, 5}, {2}, {1, 4}, {3}}) {
		t.Fatalf("grid members %v", grid.members)
	}
	if grid.NumBatches() != 4 || grid.Len() != 6 || grid.BatchSize() != 2 {
		t.Fatalf("NumBatches %d, Len %d", grid.NumBatches(), grid.Len())
	}

	joint, err := NewBucketer(src, tgt, BucketConfig{SrcBounds: bounds, TgtBounds: bounds, BatchSize: 2, Joint: true})
	if err != nil {
		t.Fatal(err)
	}
	// Joint: 2 (4, 11) and 3 (12, 5) both need bucket 2, (15, 15).
	if got := joint.Shapes(); !reflect.DeepEqual(got, []Shape{{5, 5}, {10, 10}, {15, 15}}) {
		t.Fatalf("joint shapes %v", got)
	}
	if !reflect.DeepEqual(joint.members, [][]int{{0, 5}, {1, 4}, {2, 3}}) {
		t.Fatalf("joint members %v", joint.members)
	}

	// Too long: an error, or skipped.
	long := append(append([]int(nil), src...), 16)
	ltgt := append(append([]int(nil), tgt...), 1)
	if _, err := NewBucketer(long, ltgt, BucketConfig{SrcBounds: bounds, TgtBounds: bounds, BatchSize: 2}); err == nil {
		t.Fatal("too-long example: no error")
	}
	d, err := NewBucketer(long, ltgt, BucketConfig{SrcBounds: bounds, TgtBounds: bounds, BatchSize: 2, DropTooLong: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Skipped(), []int{6}) || d.Len() != 6 {
		t.Fatalf("Skipped %v, Len %d", d.Skipped(), d.Len())
	}
}

func TestBucketerErrors(t *testing.T) {
	ok := BucketConfig{SrcBounds: []int{4, 8}, TgtBounds: []int{4, 8}, BatchSize: 2}
	cases := []struct {
		name     string
		src, tgt []int
		cfg      BucketConfig
	}{
		{"mismatched lengths", []int{1}, []int{1, 2}, ok},
		{"batch size", []int{1}, []int{1}, BucketConfig{SrcBounds: []int{4}, TgtBounds: []int{4}}},
		{"empty bounds", []int{1}, []int{1}, BucketConfig{TgtBounds: []int{4}, BatchSize: 1}},
		{"descending", []int{1}, []int{1}, BucketConfig{SrcBounds: []int{8, 4}, TgtBounds: []int{4}, BatchSize: 1}},
		{"zero bound", []int{1}, []int{1}, BucketConfig{SrcBounds: []int{4}, TgtBounds: []int{0, 4}, BatchSize: 1}},
		{"joint sizes", []int{1}, []int{1}, BucketConfig{SrcBounds: []int{4}, TgtBounds: []int{4, 8}, BatchSize: 1, Joint: true}},
		{"negative", []int{-1}, []int{1}, ok},
	}
	for _, c := range cases {
		if _, err := NewBucketer(c.src, c.tgt, c.cfg); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// randomLengths returns n (source, target) lengths between 1 and 60.
func randomLengths(seed uint64, n int) (src, tgt []int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for range n {
		s := 1 + intn(rng, 60)
		src = append(src, s)
		tgt = append(tgt, max(1, s+intn(rng, 11)-5))
	}
	return src, tgt
}

func smallestBound(bounds []int, n int) int {
	return bounds[sort.SearchInts(bounds, n)]
}

// TestBucketerEpochProperties checks, for grid and joint buckets over random
// lengths: every example exactly once per epoch, every batch within the batch
// size and padded to the smallest shape that holds its examples, at most the
// fixed number of shapes, and the same order for the same seed.
func TestBucketerEpochProperties(t *testing.T) {
	src, tgt := randomLengths(9, 1000)
	sb, tb := []int{8, 16, 32, 64}, []int{10, 20, 40, 70}
	for _, joint := range []bool{false, true} {
		b, err := NewBucketer(src, tgt, BucketConfig{SrcBounds: sb, TgtBounds: tb, BatchSize: 32, Joint: joint})
		if err != nil {
			t.Fatal(err)
		}
		maxShapes := len(sb) * len(tb)
		if joint {
			maxShapes = len(sb)
		}
		if len(b.Shapes()) > maxShapes {
			t.Fatalf("joint=%v: %d shapes, at most %d allowed", joint, len(b.Shapes()), maxShapes)
		}
		for epoch := range uint64(3) {
			batches := b.Epoch(rand.New(rand.NewPCG(5, epoch)))
			if len(batches) != b.NumBatches() {
				t.Fatalf("%d batches, NumBatches %d", len(batches), b.NumBatches())
			}
			seen := make([]int, len(src))
			for _, bt := range batches {
				if len(bt.Indices) == 0 || len(bt.Indices) > 32 {
					t.Fatalf("batch of %d examples", len(bt.Indices))
				}
				for _, i := range bt.Indices {
					seen[i]++
					ws, wt := smallestBound(sb, src[i]), smallestBound(tb, tgt[i])
					if joint {
						k := max(sort.SearchInts(sb, src[i]), sort.SearchInts(tb, tgt[i]))
						ws, wt = sb[k], tb[k]
					}
					if bt.Shape != (Shape{ws, wt}) {
						t.Fatalf("example %d (%d, %d) in shape %v, want %v", i, src[i], tgt[i], bt.Shape, Shape{ws, wt})
					}
				}
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("joint=%v epoch %d: example %d used %d times", joint, epoch, i, c)
				}
			}
			again := b.Epoch(rand.New(rand.NewPCG(5, epoch)))
			if !reflect.DeepEqual(again, batches) {
				t.Fatal("same seed, different epoch")
			}
		}
		e0 := b.Epoch(rand.New(rand.NewPCG(5, 0)))
		e1 := b.Epoch(rand.New(rand.NewPCG(5, 1)))
		if reflect.DeepEqual(e0, e1) {
			t.Fatal("different seeds, same epoch")
		}
	}
}

// TestBucketerGolden pins one small epoch, worked out by hand from the PCG(1, 2)
// outputs listed at pcg12 (x/2^64 = 0.769, 0.616, 0.784, 0.797, 0.234, ...).
// Buckets in shape order: A = (5,5) [0 5], B = (5,15) [2], C = (10,10) [1 4],
// D = (15,5) [3]. Shuffling A draws j = floor(0.769*2) = 1 (no change); C draws
// j = floor(0.616*2) = 1 (no change); B and D draw nothing. The four batches
// are then shuffled: i=3, j = floor(0.784*4) = 3; i=2, j = floor(0.797*3) = 2;
// i=1, j = floor(0.234*2) = 0, which swaps A and B.
func TestBucketerGolden(t *testing.T) {
	bounds := []int{5, 10, 15}
	b, err := NewBucketer([]int{3, 9, 4, 12, 7, 2}, []int{4, 8, 11, 5, 6, 3},
		BucketConfig{SrcBounds: bounds, TgtBounds: bounds, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := b.Epoch(pcg12())
	want := []Batch{
		{Shape{5, 15}, []int{2}},
		{Shape{5, 5}, []int{0, 5}},
		{Shape{10, 10}, []int{1, 4}},
		{Shape{15, 5}, []int{3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("epoch = %v, want %v", got, want)
	}
}
