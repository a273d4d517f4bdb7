package acoustic

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
)

// tinySequences returns three rows of up to T frames of dim values: 4, 2 and 3
// frames with 2, 1 and 0 labels among classes 1-3.
func tinySequences(dim int) []Sequence {
	rng := graph.NewRNG(5, "frames")
	var out []Sequence
	for i, n := range []int{4, 2, 3} {
		s := Sequence{Frames: n, Dim: dim, Data: make([]float64, n*dim), Labels: [][]int{{1, 3}, {2}, nil}[i]}
		for j := range s.Data {
			s.Data[j] = rng.NormFloat64()
		}
		out = append(out, s)
	}
	return out
}

func tinyModel(t *testing.T, dtype tensor.Dtype, cell rnn.Cell) (*graph.Store, *Model) {
	s := graph.NewStore(dtype, graph.NewRNG(1, "init"))
	m, err := New(s, Config{Cell: cell, Input: 3, Hidden: 3, Layers: 2, Dropout: 0.2, Classes: 4})
	require.NoError(t, err)
	return s, m
}

// TestGradients checks every parameter's gradient of the mean CTC loss in
// float64, with and without masks, with a fourth, empty row.
func TestGradients(t *testing.T) {
	for _, cell := range []rnn.Cell{rnn.LSTM, rnn.GRU} {
		for _, masked := range []bool{false, true} {
			t.Run(string(cell)+map[bool]string{false: "", true: "-masked"}[masked], func(t *testing.T) {
				s, m := tinyModel(t, tensor.Float64, cell)
				p, err := m.Build(s, graph.Train, 5, 4, 2, masked)
				require.NoError(t, err)
				require.NoError(t, p.Feed(tinySequences(3)))
				p.SetNoise(graph.NewRNG(3, "dropout"))
				require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 7, MaxPerParam: 30}))
			})
		}
	}
}

// TestMaskedPaddingInvariance: with masks, a row's log-likelihood and decoding
// do not depend on the padded length of the graph.
func TestMaskedPaddingInvariance(t *testing.T) {
	s, m := tinyModel(t, tensor.Float64, rnn.GRU)
	var nlls [][]float64
	var decoded [][][]int
	for _, T := range []int{4, 9} {
		p, err := m.Build(s, graph.Eval, T, 3, 2, true)
		require.NoError(t, err)
		require.NoError(t, p.Feed(tinySequences(3)))
		require.Equal(t, []int{4, 2, 3}, p.Lengths())
		require.NoError(t, p.Run())
		nll, err := p.NLL()
		require.NoError(t, err)
		nlls = append(nlls, nll)
		d, err := p.Decode(3)
		require.NoError(t, err)
		decoded = append(decoded, d)
		require.NoError(t, p.Close())
	}
	require.InDeltaSlice(t, nlls[0], nlls[1], 1e-12)
	require.Equal(t, decoded[0], decoded[1])
}

func TestFeedErrors(t *testing.T) {
	s, m := tinyModel(t, tensor.Float32, rnn.GRU)
	p, err := m.Build(s, graph.Eval, 3, 2, 2, false)
	require.NoError(t, err)
	seqs := tinySequences(3)
	require.ErrorContains(t, p.Feed(seqs), "3 sequences for a batch of 2")
	require.ErrorContains(t, p.Feed(seqs[:1]), "sequence of 4 frames of 3 and 2 labels for a graph of 3 frames of 3 and 2 labels")
	require.NoError(t, p.Feed(seqs[1:]))
	_, err = New(s, Config{Cell: rnn.GRU, Input: 3, Hidden: 3, Classes: 1})
	require.ErrorContains(t, err, "1 classes")
}

// rowSplitSequences returns four rows of T = 65 frames or fewer, of different
// lengths and label counts: 4 rows of 65 frames make 260 time-major rows, past
// the 256 at which cuts of the stacked outputs' gradient would hash equal.
func rowSplitSequences(dim int) []Sequence {
	rng := graph.NewRNG(9, "rows")
	var out []Sequence
	for i, n := range []int{65, 50, 61, 40} {
		s := Sequence{Frames: n, Dim: dim, Data: make([]float64, n*dim), Labels: [][]int{{1, 3}, {2}, {3, 1, 2}, {1}}[i]}
		for j := range s.Data {
			s.Data[j] = rng.NormFloat64()
		}
		out = append(out, s)
	}
	return out
}

// gradientsOver runs seqs through training programs of rows rows each and
// returns every parameter's gradient summed over the programs and scaled by
// rows/len(seqs): the gradient of the mean loss over all rows.
func gradientsOver(t *testing.T, s *graph.Store, m *Model, T int, seqs []Sequence, rows int, masked bool) map[string][]float64 {
	t.Helper()
	s.ZeroGrads()
	defer s.ZeroGrads()
	for lo := 0; lo < len(seqs); lo += rows {
		p, err := m.Build(s, graph.Train, T, rows, 3, masked)
		require.NoError(t, err)
		require.NoError(t, p.Feed(seqs[lo:lo+rows]))
		require.NoError(t, p.Run())
		require.NoError(t, p.Close())
	}
	out := map[string][]float64{}
	for _, prm := range s.Params() {
		g := graph.Float64s(prm.Grad)
		for i := range g {
			g[i] *= float64(rows) / float64(len(seqs))
		}
		out[prm.Name] = g
	}
	return out
}

// TestRowSplits: the gradient of one program of 4 rows of different lengths is
// the scaled sum of those of 2 programs of 2 rows and of 4 programs of 1 row
// (the loss is a mean over rows), and matches numeric differentiation, with
// silence padding and with masks, over 260 time-major rows.
func TestRowSplits(t *testing.T) {
	const T = 65
	for _, masked := range []bool{false, true} {
		s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
		m, err := New(s, Config{Cell: rnn.GRU, Input: 2, Hidden: 2, Layers: 1, Classes: 4})
		require.NoError(t, err)
		seqs := rowSplitSequences(2)
		whole := gradientsOver(t, s, m, T, seqs, 4, masked)
		for _, rows := range []int{1, 2} {
			part := gradientsOver(t, s, m, T, seqs, rows, masked)
			for name, w := range whole {
				require.InDeltaSlice(t, w, part[name], 1e-12, "%s, masked %v, programs of %d rows", name, masked, rows)
			}
		}
		p, err := m.Build(s, graph.Train, T, 4, 3, masked)
		require.NoError(t, err)
		require.NoError(t, p.Feed(seqs))
		require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{MaxPerParam: 4}), "masked %v", masked)
		require.NoError(t, p.Close())
	}
}
