package transformer

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// attnWeightsKernel reads the attention weights (B*H, Tq, Tk) that a fused
// attention sub-layer kept in its last forward pass (before dropout, as
// MultiHead.Forward returns them). Its input is the sub-layer's output, which
// orders it after that pass. The weights are for inspection: a loss that
// depends on them fails when differentiated (build the layer with
// LayerConfig.Unfused for differentiable weights).
type attnWeightsKernel struct {
	heads int
	tk    int
	st    *graph.Runs
}

func (k attnWeightsKernel) Key() string {
	return fmt.Sprintf("transformer.fused_weights(h=%d,tk=%d)@%p", k.heads, k.tk, k.st)
}

// newAttnWeights returns the kernel that copies out the attention weights the
// sub-layer of st computes, which its buffers then keep to the run's end.
func newAttnWeights(heads, tk int, st *graph.Runs) attnWeightsKernel {
	st.Share()
	return attnWeightsKernel{heads: heads, tk: tk, st: st}
}

func (k attnWeightsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 3 {
		return nil, errors.Errorf("fused attention weights: sub-layer output %v", x)
	}
	return tensor.Shape{x[0] * k.heads, x[1], k.tk}, nil
}

func (attnWeightsKernel) Differentiable(int) []bool { return []bool{true} }

func (k attnWeightsKernel) ForwardInto(out *tensor.Dense, _ []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() error { return copyWeights(graph.Slice[float32](out), k.st) },
		func() error { return copyWeights(graph.Slice[float64](out), k.st) })
}

func copyWeights[T graph.Float](dst []T, st *graph.Runs) error {
	bf, ok := graph.Held[attnBufs[T]](st)
	if !ok || len(bf.p) != len(dst) {
		return errors.New("fused attention weights: the sub-layer has not run")
	}
	copy(dst, bf.p)
	return nil
}

func (k attnWeightsKernel) BackwardInto(*tensor.Dense, int, []*tensor.Dense, *tensor.Dense, *tensor.Dense) error {
	return errNoWeightGrad
}

var errNoWeightGrad = errors.New("the attention weights of a fused Transformer layer are not differentiable (set LayerConfig.Unfused)")

// embedKernel is the Transformer's input layer as one node:
//
//	y_bt = drop(sqrt(E) table[ids_bt] + pos_t)
//
// with pos the sinusoidal encoding or a learned table's first T rows. Inputs:
// table (V, E), ids (B, T) tensor.Int, the learned table (L, E) when learned,
// the dropout mask (B, T, E) when present, and, with offset, the position of
// the first column (a (1) tensor.Int): column t then takes the encoding of
// position first+t (incremental decoding feeds one position at a time). Only
// the tables are differentiated: dtable[id] += sqrt(E) drop g,
// dpos_{first+t} = sum_b drop g.
type embedKernel struct {
	scale   float64
	learned bool
	drop    bool
	offset  bool
	st      *embedState
}

// embedState caches the sinusoidal table of the longest length so far and
// the last width.
type embedState struct {
	t, e int
	pe   any // []float32 or []float64, (T, E)
}

func newEmbedKernel(scale float64, learned, drop bool) embedKernel {
	return embedKernel{scale: scale, learned: learned, drop: drop, st: &embedState{}}
}

func (k embedKernel) Key() string {
	return fmt.Sprintf("transformer.fused_embed(scale=%g,learned=%t,drop=%t,offset=%t)", k.scale, k.learned, k.drop, k.offset)
}

func (k embedKernel) nIn() int    { return 2 + btoi(k.learned) + btoi(k.drop) + btoi(k.offset) }
func (k embedKernel) posAt() int  { return optAt(2, k.learned) }
func (k embedKernel) dropAt() int { return optAt(2+btoi(k.learned), k.drop) }
func (k embedKernel) firstAt() int {
	return optAt(2+btoi(k.learned)+btoi(k.drop), k.offset)
}

// first returns the position of the first column: 0 without offset.
func (k embedKernel) first(in []*tensor.Dense) int {
	if !k.offset {
		return 0
	}
	return graph.Ints(graph.Contiguous(in[k.firstAt()]))[0]
}
func (k embedKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	if k.learned && n > 2 {
		d[2] = true
	}
	return d
}

func (k embedKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != k.nIn() {
		return nil, errors.Errorf("fused embedding: %d inputs, want %d", len(in), k.nIn())
	}
	tab, ids := in[0], in[1]
	if tab.Dims() != 2 || ids.Dims() != 2 {
		return nil, errors.Errorf("fused embedding: table %v, ids %v, want (V, E) and (B, T)", tab, ids)
	}
	out := tensor.Shape{ids[0], ids[1], tab[1]}
	if i := k.firstAt(); i >= 0 && in[i].TotalSize() != 1 {
		return nil, errors.Errorf("fused embedding: first position %v, want (1)", in[i])
	}
	if i := k.posAt(); i >= 0 && (in[i].Dims() != 2 || in[i][1] != tab[1] || in[i][0] < ids[1]) {
		return nil, errors.Errorf("learned positions: table %v for length %d and width %d", in[i], ids[1], tab[1])
	}
	if i := k.dropAt(); i >= 0 && !in[i].Eq(out) {
		return nil, errors.Errorf("fused embedding: dropout mask %v, want %v", in[i], out)
	}
	return out, nil
}

func (k embedKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() error { return embedForward[float32](k, graph.Slice[float32](out), in) },
		func() error { return embedForward[float64](k, graph.Slice[float64](out), in) })
}

func (k embedKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() {
			embedBackward[float32](k, graph.Slice[float32](grad), wrt, in, graph.RowMajor[float32](g))
		},
		func() {
			embedBackward[float64](k, graph.Slice[float64](grad), wrt, in, graph.RowMajor[float64](g))
		})
}

// sinusoids returns the sinusoidal table of at least t rows of width e,
// cached (its first t rows are the (T, E) table).
func sinusoids[T graph.Float](st *embedState, t, e int) []T {
	if pe, ok := st.pe.([]T); ok && st.t >= t && st.e == e {
		return pe
	}
	pe := make([]T, t*e)
	for p := 0; p < t; p++ {
		for i := 0; i < e; i++ {
			pe[p*e+i] = T(Sinusoid(p, i, e))
		}
	}
	st.t, st.e, st.pe = t, e, pe
	return pe
}

func embedForward[T graph.Float](k embedKernel, out []T, in []*tensor.Dense) error {
	tab, ids := floats[T](in, 0), graph.Ints(in[1])
	v, e := in[0].Shape()[0], in[0].Shape()[1]
	t, first := in[1].Shape()[1], k.first(in)
	var pos []T
	if k.learned {
		pos = floats[T](in, k.posAt())
		if first < 0 || (first+t)*e > len(pos) {
			return errors.Errorf("learned positions: positions [%d, %d) outside the table of %d", first, first+t, len(pos)/e)
		}
	} else {
		if first < 0 {
			return errors.Errorf("fused embedding: first position %d", first)
		}
		pos = sinusoids[T](k.st, first+t, e)
	}
	pos = pos[first*e:]
	drop := floats[T](in, k.dropAt())
	c := T(k.scale)
	for r, id := range ids {
		if id < 0 || id >= v {
			return errors.Errorf("fused embedding: id %d at position %d outside [0, %d)", id, r, v)
		}
		row, y, p := tab[id*e:(id+1)*e], out[r*e:(r+1)*e], pos[(r%t)*e:(r%t+1)*e]
		for j, w := range row {
			y[j] = c*w + p[j]
		}
		if drop != nil {
			for j, m := range drop[r*e : (r+1)*e] {
				y[j] *= m
			}
		}
	}
	return nil
}

func embedBackward[T graph.Float](k embedKernel, grad []T, wrt int, in []*tensor.Dense, g []T) {
	ids := graph.Ints(in[1])
	e := in[0].Shape()[1]
	t := in[1].Shape()[1]
	if wrt != 0 {
		grad = grad[k.first(in)*e:]
	}
	drop := floats[T](in, k.dropAt())
	c := T(k.scale)
	for r, id := range ids {
		gr := g[r*e : (r+1)*e]
		var dst []T
		if wrt == 0 {
			dst = grad[id*e : (id+1)*e]
		} else {
			dst = grad[(r%t)*e : (r%t+1)*e]
		}
		for j, v := range gr {
			if drop != nil {
				v *= drop[r*e+j]
			}
			if wrt == 0 {
				v *= c
			}
			dst[j] += v
		}
	}
}

var _ graph.Kernel = embedKernel{}

// Overwrites implements graph.Overwriter: every output row is written; the
// tables' gradients are scatter-adds.
func (embedKernel) Overwrites(wrt int) bool { return wrt == -1 }

// Overwrites implements graph.Overwriter: the weights are copied whole.
func (attnWeightsKernel) Overwrites(int) bool { return true }

var _ graph.Kernel = attnWeightsKernel{}
