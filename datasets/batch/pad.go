package batch

import "github.com/pkg/errors"

// Pad lays seqs into a B×T array, B = len(seqs), T = length, row-major: ids[b*T+t]
// is seqs[b][t] for t < lengths[b] and padID after it; mask[b*T+t] is 1 for a
// real token and 0 for padding; lengths[b] is the number of real tokens. A
// sequence longer than length is truncated to its first length ids. A length of
// zero or less means the longest sequence's length. Empty or nil sequences give
// rows of padding (useful to fill a partial batch to its full size).
func Pad(seqs [][]int, length, padID int) (ids []int, mask []float32, lengths []int) {
	if length <= 0 {
		length = maxLen(seqs)
	}
	ids, mask, lengths = newPadded(len(seqs), length, padID)
	for b, s := range seqs {
		n := min(len(s), length)
		row := ids[b*length : (b+1)*length]
		copy(row, s[:n])
		fillMask(mask[b*length:], n)
		lengths[b] = n
	}
	return ids, mask, lengths
}

// PadBOSEOS is Pad for each sequence wrapped as bosID, seq..., eosID. When the
// wrapped sequence is longer than length, the content is truncated so that the
// row still ends with eosID (a length of 1 keeps only bosID; 0 or less means the
// longest sequence's length plus 2). Lengths count bosID and eosID.
func PadBOSEOS(seqs [][]int, length, padID, bosID, eosID int) (ids []int, mask []float32, lengths []int) {
	if length <= 0 {
		length = maxLen(seqs) + 2
	}
	ids, mask, lengths = newPadded(len(seqs), length, padID)
	for b, s := range seqs {
		row := ids[b*length : (b+1)*length]
		row[0] = bosID
		n := 1
		if length >= 2 {
			c := min(len(s), length-2)
			copy(row[1:], s[:c])
			row[1+c] = eosID
			n = c + 2
		}
		fillMask(mask[b*length:], n)
		lengths[b] = n
	}
	return ids, mask, lengths
}

// TeacherForcing builds the decoder input and target arrays of a sequence
// model trained with teacher forcing, both B×T row-major: for each sequence
// (truncated to length-1 ids), in holds bosID, seq... and out holds seq...,
// eosID, both padded with padID. mask marks the real positions of out (those of
// in are the same), and lengths[b] = min(len(seqs[b]), length-1) + 1. A length of
// zero or less means the longest sequence's length plus 1.
func TeacherForcing(seqs [][]int, length, padID, bosID, eosID int) (in, out []int, mask []float32, lengths []int) {
	if length <= 0 {
		length = maxLen(seqs) + 1
	}
	in, mask, lengths = newPadded(len(seqs), length, padID)
	out = make([]int, len(in))
	copy(out, in)
	for b, s := range seqs {
		c := min(len(s), length-1)
		inRow := in[b*length : (b+1)*length]
		outRow := out[b*length : (b+1)*length]
		inRow[0] = bosID
		copy(inRow[1:], s[:c])
		copy(outRow, s[:c])
		outRow[c] = eosID
		fillMask(mask[b*length:], c+1)
		lengths[b] = c + 1
	}
	return in, out, mask, lengths
}

// Mask64 converts a float32 mask to float64 (for float64 programs such as
// gradient checks).
func Mask64(mask []float32) []float64 {
	out := make([]float64, len(mask))
	for i, m := range mask {
		out[i] = float64(m)
	}
	return out
}

// Gather returns seqs[indices[0]], seqs[indices[1]], ... followed by empty
// sequences up to rows entries, so that a partial batch pads to the full batch
// size (its extra rows are all padding, with a zero mask). rows smaller than
// len(indices) is treated as len(indices). The sequences are shared, not copied.
func Gather(seqs [][]int, indices []int, rows int) ([][]int, error) {
	out := make([][]int, max(rows, len(indices)))
	for i, ix := range indices {
		if ix < 0 || ix >= len(seqs) {
			return nil, errors.Errorf("batch: index %d out of range [0, %d)", ix, len(seqs))
		}
		out[i] = seqs[ix]
	}
	return out, nil
}

func maxLen(seqs [][]int) int {
	m := 0
	for _, s := range seqs {
		m = max(m, len(s))
	}
	return m
}

func newPadded(rows, length, padID int) ([]int, []float32, []int) {
	ids := make([]int, rows*length)
	if padID != 0 {
		for i := range ids {
			ids[i] = padID
		}
	}
	return ids, make([]float32, rows*length), make([]int, rows)
}

func fillMask(m []float32, n int) {
	for t := range n {
		m[t] = 1
	}
}
