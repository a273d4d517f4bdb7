package batch

import (
	"math/rand/v2"

	"github.com/pkg/errors"
)

// Stream is a token stream laid out for truncated backpropagation through time:
// Cols contiguous columns of Steps tokens each, column b holding tokens
// b*Steps .. (b+1)*Steps-1 of the stream. Windows of consecutive steps give
// every column's hidden state a continuation in the next window.
type Stream struct {
	data  []int // time-major: data[t*cols+b]
	steps int
	cols  int
}

// Batchify lays ids into batchSize contiguous columns of len(ids)/batchSize
// tokens each, dropping the len(ids) mod batchSize tokens at the end, as
// batchify does in PyTorch's examples/word_language_model/main.py (which
// narrows the data to nbatch*bsz tokens and views it as bsz rows, then
// transposes). It is an error when there are fewer tokens than columns.
func Batchify(ids []int, batchSize int) (*Stream, error) {
	if batchSize <= 0 {
		return nil, errors.Errorf("batch: batch size must be positive, got %d", batchSize)
	}
	steps := len(ids) / batchSize
	if steps == 0 {
		return nil, errors.Errorf("batch: %d tokens are fewer than the %d columns", len(ids), batchSize)
	}
	s := &Stream{data: make([]int, steps*batchSize), steps: steps, cols: batchSize}
	for b := range batchSize {
		for t := range steps {
			s.data[t*batchSize+b] = ids[b*steps+t]
		}
	}
	return s, nil
}

// Steps returns the number of tokens in each column.
func (s *Stream) Steps() int { return s.steps }

// Cols returns the number of columns (the batch size).
func (s *Stream) Cols() int { return s.cols }

// Data returns a copy of the whole Steps×Cols array, time-major.
func (s *Stream) Data() []int { return append([]int(nil), s.data...) }

// window checks a window start and returns its length: min(seqLen,
// Steps-1-i), as get_batch in PyTorch's word_language_model example.
func (s *Stream) window(i, seqLen int) (int, error) {
	if seqLen <= 0 {
		return 0, errors.Errorf("batch: sequence length must be positive, got %d", seqLen)
	}
	if i < 0 || i >= s.steps-1 {
		return 0, errors.Errorf("batch: window start %d out of range [0, %d)", i, s.steps-1)
	}
	return min(seqLen, s.steps-1-i), nil
}

// Batch returns the window of L = min(seqLen, Steps-1-i) steps starting at step
// i, time-major (L×B, x[t*B+b]): x holds steps i..i+L-1 and y the next tokens,
// steps i+1..i+L. The window is shorter than seqLen only at the end of the
// stream; Starts with dropPartial avoids it for static shapes.
func (s *Stream) Batch(i, seqLen int) (x, y []int, err error) {
	l, err := s.window(i, seqLen)
	if err != nil {
		return nil, nil, err
	}
	n := l * s.cols
	x = append([]int(nil), s.data[i*s.cols:i*s.cols+n]...)
	y = append([]int(nil), s.data[(i+1)*s.cols:(i+1)*s.cols+n]...)
	return x, y, nil
}

// BatchMajor is Batch with x and y batch-major (B×L, x[b*L+t]), the layout of
// Pad's output.
func (s *Stream) BatchMajor(i, seqLen int) (x, y []int, err error) {
	l, err := s.window(i, seqLen)
	if err != nil {
		return nil, nil, err
	}
	x, y = make([]int, l*s.cols), make([]int, l*s.cols)
	for b := range s.cols {
		for t := range l {
			x[b*l+t] = s.data[(i+t)*s.cols+b]
			y[b*l+t] = s.data[(i+t+1)*s.cols+b]
		}
	}
	return x, y, nil
}

// Starts returns the window starts of one pass over the stream: 0, seqLen,
// 2*seqLen, ... below Steps-1, as the training loop of PyTorch's
// word_language_model example. With dropPartial, only starts whose window has
// all seqLen steps are kept.
func (s *Stream) Starts(seqLen int, dropPartial bool) ([]int, error) {
	if seqLen <= 0 {
		return nil, errors.Errorf("batch: sequence length must be positive, got %d", seqLen)
	}
	var out []int
	for i := 0; i < s.steps-1; i += seqLen {
		if dropPartial && i+seqLen > s.steps-1 {
			break
		}
		out = append(out, i)
	}
	return out, nil
}

// RandomStarts is Starts with dropPartial after a random offset drawn
// uniformly from [0, seqLen) with rng (the same draw on every platform, see
// Perm): the starts are o, o+seqLen, ... with full windows only, so that window
// boundaries move from epoch to epoch while every window has the same shape.
func (s *Stream) RandomStarts(rng *rand.Rand, seqLen int) ([]int, error) {
	if seqLen <= 0 {
		return nil, errors.Errorf("batch: sequence length must be positive, got %d", seqLen)
	}
	var out []int
	for i := intn(rng, seqLen); i+seqLen <= s.steps-1; i += seqLen {
		out = append(out, i)
	}
	return out, nil
}
