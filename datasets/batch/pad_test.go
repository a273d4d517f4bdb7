package batch

import (
	"reflect"
	"testing"
)

func TestPad(t *testing.T) {
	seqs := [][]int{{5, 6, 7}, {8}, nil, {1, 2, 3, 4, 9}}
	ids, mask, lengths := Pad(seqs, 4, -1)
	wantIDs := []int{
		5, 6, 7, -1,
		8, -1, -1, -1,
		-1, -1, -1, -1,
		1, 2, 3, 4, // truncated
	}
	wantMask := []float32{
		1, 1, 1, 0,
		1, 0, 0, 0,
		0, 0, 0, 0,
		1, 1, 1, 1,
	}
	if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(mask, wantMask) || !reflect.DeepEqual(lengths, []int{3, 1, 0, 4}) {
		t.Fatalf("Pad = %v %v %v", ids, mask, lengths)
	}
	// Length 0: the longest sequence.
	ids, _, lengths = Pad(seqs[:2], 0, 0)
	if !reflect.DeepEqual(ids, []int{5, 6, 7, 8, 0, 0}) || !reflect.DeepEqual(lengths, []int{3, 1}) {
		t.Fatalf("Pad(length 0) = %v %v", ids, lengths)
	}
	if m := Mask64([]float32{1, 0}); !reflect.DeepEqual(m, []float64{1, 0}) {
		t.Fatalf("Mask64 = %v", m)
	}
	// The input is not modified.
	if !reflect.DeepEqual(seqs[3], []int{1, 2, 3, 4, 9}) {
		t.Fatal("Pad modified its input")
	}
}

func TestPadBOSEOS(t *testing.T) {
	const pad, bos, eos = 0, 2, 3
	seqs := [][]int{{5, 6}, {7, 8, 9, 10}, {}}
	ids, mask, lengths := PadBOSEOS(seqs, 5, pad, bos, eos)
	wantIDs := []int{
		2, 5, 6, 3, 0,
		2, 7, 8, 9, 3, // content truncated so EOS still fits
		2, 3, 0, 0, 0,
	}
	wantMask := []float32{
		1, 1, 1, 1, 0,
		1, 1, 1, 1, 1,
		1, 1, 0, 0, 0,
	}
	if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(mask, wantMask) || !reflect.DeepEqual(lengths, []int{4, 5, 2}) {
		t.Fatalf("PadBOSEOS = %v %v %v", ids, mask, lengths)
	}
	ids, _, lengths = PadBOSEOS(seqs[:1], 0, pad, bos, eos)
	if !reflect.DeepEqual(ids, []int{2, 5, 6, 3}) || lengths[0] != 4 {
		t.Fatalf("PadBOSEOS(length 0) = %v %v", ids, lengths)
	}
	ids, _, lengths = PadBOSEOS(seqs[:1], 1, pad, bos, eos)
	if !reflect.DeepEqual(ids, []int{2}) || lengths[0] != 1 {
		t.Fatalf("PadBOSEOS(length 1) = %v %v", ids, lengths)
	}
}

func TestTeacherForcing(t *testing.T) {
	const pad, bos, eos = 0, 2, 3
	seqs := [][]int{{5, 6}, {7, 8, 9, 10}}
	in, out, mask, lengths := TeacherForcing(seqs, 4, pad, bos, eos)
	wantIn := []int{
		2, 5, 6, 0,
		2, 7, 8, 9,
	}
	wantOut := []int{
		5, 6, 3, 0,
		7, 8, 9, 3,
	}
	wantMask := []float32{
		1, 1, 1, 0,
		1, 1, 1, 1,
	}
	if !reflect.DeepEqual(in, wantIn) || !reflect.DeepEqual(out, wantOut) ||
		!reflect.DeepEqual(mask, wantMask) || !reflect.DeepEqual(lengths, []int{3, 4}) {
		t.Fatalf("TeacherForcing = %v %v %v %v", in, out, mask, lengths)
	}
	in, out, _, _ = TeacherForcing(seqs[:1], 0, pad, bos, eos)
	if !reflect.DeepEqual(in, []int{2, 5, 6}) || !reflect.DeepEqual(out, []int{5, 6, 3}) {
		t.Fatalf("TeacherForcing(length 0) = %v %v", in, out)
	}
}

func TestGather(t *testing.T) {
	seqs := [][]int{{1}, {2, 2}, {3, 3, 3}}
	got, err := Gather(seqs, []int{2, 0}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{3, 3, 3}, {1}, nil, nil}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Gather = %v", got)
	}
	ids, mask, _ := Pad(got, 3, 0)
	if len(ids) != 12 || mask[6] != 0 || mask[11] != 0 {
		t.Fatalf("filler rows not padding: %v %v", ids, mask)
	}
	if _, err := Gather(seqs, []int{3}, 1); err == nil {
		t.Fatal("out-of-range index: no error")
	}
}
