package attention

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// naiveCausal returns causal multi-head attention over qkv (B, T, 3E) rows
// [from, T) of each row, by loops: (B, T-from, E).
func naiveCausal(qkv []float64, b, t, e, h, from int) []float64 {
	d := e / h
	out := make([]float64, 0, b*(t-from)*e)
	at := func(r, i, part, hd, j int) float64 { return qkv[(r*t+i)*3*e+part*e+hd*d+j] }
	for r := 0; r < b; r++ {
		for i := from; i < t; i++ {
			row := make([]float64, e)
			for hd := 0; hd < h; hd++ {
				s := make([]float64, i+1)
				m := math.Inf(-1)
				for k := range s {
					for j := 0; j < d; j++ {
						s[k] += at(r, i, 0, hd, j) * at(r, k, 1, hd, j)
					}
					s[k] /= math.Sqrt(float64(d))
					m = math.Max(m, s[k])
				}
				var sum float64
				for k := range s {
					s[k] = math.Exp(s[k] - m)
					sum += s[k]
				}
				for k := range s {
					for j := 0; j < d; j++ {
						row[hd*d+j] += s[k] / sum * at(r, k, 2, hd, j)
					}
				}
			}
			out = append(out, row...)
		}
	}
	return out
}

// A sequence fed to the cache in pieces (a prompt, then one position at a
// time) gives causal attention over the whole sequence; a row that starts late
// (left padding) gives what it gives alone; selected rows continue as the rows
// they copy.
func TestCachedAttention(t *testing.T) {
	const B, T, H, E = 3, 6, 2, 4
	qkv := modeltest.NormalDense(5, B, T, 3*E)
	all := graph.Float64s(qkv)
	piece := func(rows []int, from, to int) *tensor.Dense {
		var v []float64
		for _, b := range rows {
			v = append(v, all[(b*T+from)*3*E:(b*T+to)*3*E]...)
		}
		return graph.FromFloat64s(tensor.Float64, v, len(rows), to-from, 3*E)
	}
	c := NewKVCache(tensor.Float64, B, H, 8, E/H)
	k := CachedAttention{Cache: c}
	run := func(k CachedAttention, x *tensor.Dense, col int, start []int) []float64 {
		t.Helper()
		y, err := graph.Forward(k, []*tensor.Dense{x, graph.FromInts([]int{col}, 1), graph.FromInts(start, len(start))})
		require.NoError(t, err)
		return graph.Float64s(y)
	}
	rows := []int{0, 1, 2}
	want := naiveCausal(all, B, T, E, H, 0)
	outs := make([][]float64, B)
	for _, r := range [][2]int{{0, 3}, {3, 4}} {
		vals := run(k, piece(rows, r[0], r[1]), r[0], []int{0, 0, 0})
		n := (r[1] - r[0]) * E
		for b := 0; b < B; b++ {
			outs[b] = append(outs[b], vals[b*n:(b+1)*n]...)
		}
	}
	// rows 2, 0, 0 of the cache continue from column 4
	sel, err := c.Select([]int{2, 0, 0}, 4)
	require.NoError(t, err)
	require.Equal(t, 3, sel.Rows())
	for col := 4; col < T; col++ {
		vals := run(CachedAttention{Cache: sel}, piece([]int{2, 0, 0}, col, col+1), col, []int{0, 0, 0})
		for i, b := range []int{2, 0} {
			outs[b] = append(outs[b], vals[i*E:(i+1)*E]...)
		}
	}
	for _, b := range []int{0, 2} {
		require.InDeltaSlice(t, want[b*T*E:(b+1)*T*E], outs[b], 1e-14, "row %d", b)
	}

	// row 1 starts two columns late: its first two queries are padding
	padded := graph.Float64s(piece([]int{0, 1, 2}, 0, 4))
	copy(padded[4*3*E+2*3*E:], all[(1*T)*3*E:(1*T+2)*3*E]) // row 1: pad pad x0 x1
	for i := 0; i < 2*3*E; i++ {
		padded[4*3*E+i] = 100 // padding's keys and values must not matter
	}
	vals := run(k, graph.FromFloat64s(tensor.Float64, padded, B, 4, 3*E), 0, []int{0, 2, 0})
	require.Equal(t, make([]float64, 2*E), vals[4*E:6*E], "padding queries give zero")
	require.InDeltaSlice(t, want[T*E:(T+2)*E], vals[6*E:8*E], 1e-14)

	_, err = graph.Forward(k, []*tensor.Dense{piece(rows, 0, 3), graph.FromInts([]int{6}, 1), graph.FromInts([]int{0, 0, 0}, B)})
	require.ErrorContains(t, err, "outside the block")
	_, err = c.Select([]int{3}, 1)
	require.ErrorContains(t, err, "row 3 of 3")
	_, err = c.Select([]int{0}, 9)
	require.ErrorContains(t, err, "columns")
	require.Error(t, AttendCached(c, 1, 0, nil, make([]float32, B*3*E), make([]float32, B*E)), "a float64 cache")
}
