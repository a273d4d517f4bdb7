package batch

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// alphabet26 is the example in the comment of batchify in PyTorch's
// examples/word_language_model/main.py: the 26 letters (here 0..25) in 4
// columns give columns a-f, g-l, m-r, s-x, and y, z are dropped.
func alphabet26(t *testing.T) *Stream {
	ids := make([]int, 26)
	for i := range ids {
		ids[i] = i
	}
	s, err := Batchify(ids, 4)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBatchify(t *testing.T) {
	s := alphabet26(t)
	if s.Steps() != 6 || s.Cols() != 4 {
		t.Fatalf("Steps %d, Cols %d", s.Steps(), s.Cols())
	}
	want := []int{
		0, 6, 12, 18, // a g m s
		1, 7, 13, 19,
		2, 8, 14, 20,
		3, 9, 15, 21,
		4, 10, 16, 22,
		5, 11, 17, 23, // f l r x
	}
	if got := s.Data(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Data = %v", got)
	}
	if _, err := Batchify([]int{1, 2, 3}, 4); err == nil {
		t.Fatal("fewer tokens than columns: no error")
	}
	if _, err := Batchify([]int{1, 2, 3}, 0); err == nil {
		t.Fatal("batch size 0: no error")
	}
}

func TestStreamBatch(t *testing.T) {
	s := alphabet26(t)
	x, y, err := s.Batch(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, []int{0, 6, 12, 18, 1, 7, 13, 19}) || !reflect.DeepEqual(y, []int{1, 7, 13, 19, 2, 8, 14, 20}) {
		t.Fatalf("Batch(0, 2) = %v, %v", x, y)
	}
	// At step 4 only 6-1-4 = 1 step is left.
	x, y, err = s.Batch(4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, []int{4, 10, 16, 22}) || !reflect.DeepEqual(y, []int{5, 11, 17, 23}) {
		t.Fatalf("Batch(4, 2) = %v, %v", x, y)
	}
	x, y, err = s.BatchMajor(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, []int{0, 1, 6, 7, 12, 13, 18, 19}) || !reflect.DeepEqual(y, []int{1, 2, 7, 8, 13, 14, 19, 20}) {
		t.Fatalf("BatchMajor(0, 2) = %v, %v", x, y)
	}
	for _, c := range [][2]int{{5, 2}, {-1, 2}, {0, 0}} {
		if _, _, err := s.Batch(c[0], c[1]); err == nil {
			t.Errorf("Batch(%d, %d): no error", c[0], c[1])
		}
		if _, _, err := s.BatchMajor(c[0], c[1]); err == nil {
			t.Errorf("BatchMajor(%d, %d): no error", c[0], c[1])
		}
	}
	// Batch returns copies.
	x, _, _ = s.Batch(0, 1)
	x[0] = 99
	if s.Data()[0] != 0 {
		t.Fatal("Batch aliases the stream")
	}
}

func TestStreamStarts(t *testing.T) {
	s := alphabet26(t)
	if got, _ := s.Starts(2, false); !reflect.DeepEqual(got, []int{0, 2, 4}) {
		t.Fatalf("Starts(2, false) = %v", got)
	}
	if got, _ := s.Starts(2, true); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Fatalf("Starts(2, true) = %v", got)
	}
	if got, _ := s.Starts(5, true); !reflect.DeepEqual(got, []int{0}) {
		t.Fatalf("Starts(5, true) = %v", got)
	}
	if _, err := s.Starts(0, false); err == nil {
		t.Fatal("Starts(0): no error")
	}
	// Offsets 0 and 1 both occur; windows are full.
	seen := map[int]bool{}
	for seed := range uint64(20) {
		a, err := s.RandomStarts(rand.New(rand.NewPCG(seed, 0)), 2)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.RandomStarts(rand.New(rand.NewPCG(seed, 0)), 2)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("RandomStarts not deterministic")
		}
		switch {
		case reflect.DeepEqual(a, []int{0, 2}):
			seen[0] = true
		case reflect.DeepEqual(a, []int{1, 3}):
			seen[1] = true
		default:
			t.Fatalf("RandomStarts = %v", a)
		}
	}
	if !seen[0] || !seen[1] {
		t.Fatalf("offsets seen: %v", seen)
	}
	if _, err := s.RandomStarts(pcg12(), 0); err == nil {
		t.Fatal("RandomStarts(0): no error")
	}
}

// TestStreamCoversColumns checks that one pass of windows gives, per column,
// every token but the last as input and every token but the first as target,
// in order.
func TestStreamCoversColumns(t *testing.T) {
	ids := make([]int, 1003)
	for i := range ids {
		ids[i] = 7 * i
	}
	s, err := Batchify(ids, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, seqLen := range []int{1, 7, 35, 1000} {
		xs := make([][]int, s.Cols())
		ys := make([][]int, s.Cols())
		starts, _ := s.Starts(seqLen, false)
		for _, i := range starts {
			x, y, err := s.BatchMajor(i, seqLen)
			if err != nil {
				t.Fatal(err)
			}
			l := len(x) / s.Cols()
			for b := range s.Cols() {
				xs[b] = append(xs[b], x[b*l:(b+1)*l]...)
				ys[b] = append(ys[b], y[b*l:(b+1)*l]...)
			}
		}
		for b := range s.Cols() {
			col := ids[b*s.Steps() : (b+1)*s.Steps()]
			if !reflect.DeepEqual(xs[b], col[:len(col)-1]) || !reflect.DeepEqual(ys[b], col[1:]) {
				t.Fatalf("seqLen %d: column %d not covered in order", seqLen, b)
			}
		}
	}
}
