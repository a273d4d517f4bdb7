package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// genLossKernel is the Transformer's output layer and loss as one node: the
// logits Z = X W^T + b of every position and the masked mean cross-entropy of
// losses.SequenceCrossEntropy with label smoothing eps,
//
//	loss = sum_r m_r l_r / sum_r m_r,  l_r = lse_r - (1-eps) z_r,t_r - eps mean_c z_r,c
//
// (0 when every weight is 0; a target equal to the ignore index weighs 0). The
// (N, V) logits never leave the node: forward turns them in place into
// exp(z - max) per row (graph.Exp32 in float32), keeping 1/sum; the first gradient requested in a run
// turns those in place into dZ = g m_r / sum(m) (softmax - (1-eps) onehot - eps/V),
// from which dX = dZ W, dW = dZ^T X and db = column sums of dZ. Rows of weight 0
// are skipped. Inputs: x (B, T, E), W (V, E), b (V), targets (B, T)
// tensor.Int, mask (B, T) float; the output is a scalar.
type genLossKernel struct {
	eps    float64
	ignore int
	st     *graph.Runs // holds a *genBufs[float32] or *genBufs[float64]
}

// Runs implements graph.Stateful: a program lends the layer its scratch.
func (k genLossKernel) Runs() *graph.Runs { return k.st }

// genBufs holds what the fused output layer keeps between its passes.
type genBufs[T graph.Float] struct {
	z     []T       // (N, V) logits, then exp(z - max), then their gradient
	inv   []float64 // (N) 1 / sum_c exp(z_c - max)
	loss  []float64 // (N) per-row losses
	total float64   // sum of the weights of the kept rows
	db    []T       // (workers, V) column sums of the gradient, the bias's in the first row
}

func newGenLossKernel(eps float64, ignore int) genLossKernel {
	return genLossKernel{eps: eps, ignore: ignore, st: &graph.Runs{}}
}

func (k genLossKernel) Key() string {
	return fmt.Sprintf("transformer.fused_generator_ce(eps=%g,ignore=%d)@%p", k.eps, k.ignore, k.st)
}

func (genLossKernel) Differentiable(n int) []bool { return []bool{true, true, true, false, false}[:n] }

func (genLossKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 5 {
		return nil, errors.Errorf("fused output layer: %d inputs, want x, weight, bias, targets, mask", len(in))
	}
	x, w, b, t, m := in[0], in[1], in[2], in[3], in[4]
	if x.Dims() != 3 || w.Dims() != 2 || w[1] != x[2] || !b.Eq(tensor.Shape{w[0]}) {
		return nil, errors.Errorf("fused output layer: input %v, weight %v, bias %v", x, w, b)
	}
	if !t.Eq(x[:2]) || !m.Eq(x[:2]) {
		return nil, errors.Errorf("fused output layer: targets %v, mask %v for input %v", t, m, x)
	}
	return tensor.ScalarShape(), nil
}

// ForwardInto computes the loss into the scalar out and keeps what the
// backward pass reads.
func (k genLossKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() error { return genForward[float32](k, graph.Slice[float32](out), in) },
		func() error { return genForward[float64](k, graph.Slice[float64](out), in) })
}

func (k genLossKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	if err := k.st.Started("fused output layer"); err != nil {
		return err
	}
	gv := graph.Scalar(g)
	return graph.Dispatch(grad.Dtype(),
		func() { genBackward[float32](k, graph.Slice[float32](grad), wrt, in, gv) },
		func() { genBackward[float64](k, graph.Slice[float64](grad), wrt, in, gv) })
}

// genSizes returns the rows, width and classes.
func genSizes(in []*tensor.Dense) (n, e, v int) {
	s := in[0].Shape()
	return s[0] * s[1], s[2], in[1].Shape()[0]
}

// weightOf returns the weight of row r: its mask value, 0 for an ignored target.
func weightOf[T graph.Float](k genLossKernel, mask []T, ids []int, r int) float64 {
	if ids[r] == k.ignore {
		return 0
	}
	return float64(mask[r])
}

func genForward[T graph.Float](k genLossKernel, out []T, in []*tensor.Dense) error {
	k.st.Forward()
	n, e, v := genSizes(in)
	ids := graph.Ints(in[3])
	for r, id := range ids {
		if id != k.ignore && (id < 0 || id >= v) {
			return errors.Errorf("fused output layer: target %d of row %d outside [0, %d) and not the ignore index %d", id, r, v, k.ignore)
		}
	}
	bf := graph.Buffers[genBufs[T]](k.st)
	bf.z, bf.inv, bf.loss = graph.Scratch(k.st, bf.z, n*v), graph.Scratch(k.st, bf.inv, n), graph.Scratch(k.st, bf.loss, n)
	x, w, bias := floats[T](in, 0), floats[T](in, 1), floats[T](in, 2)
	mask := floats[T](in, 4)
	graph.Gemm(false, true, n, v, e, x, e, w, e, 0, bf.z, v)
	eps := k.eps
	graph.ParallelRows(n, v, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bf.loss[r] = 0
			if weightOf(k, mask, ids, r) == 0 {
				continue
			}
			row := bf.z[r*v : (r+1)*v]
			mx, zt, mean, sum := genRow(row, bias, ids[r], eps != 0)
			bf.inv[r] = 1 / sum
			bf.loss[r] = mx + math.Log(sum) - (1-eps)*zt - eps*mean
		}
	})
	var num, den float64
	for r := range ids {
		wr := weightOf(k, mask, ids, r)
		num += wr * bf.loss[r]
		den += wr
	}
	bf.total = den
	out[0] = 0
	if den != 0 {
		out[0] = T(num / den)
	}
	return nil
}

// genRow adds the bias to a row of logits, replaces each by exp(z - max) and
// returns the max, the target's logit, the mean logit (when mean) and the sum
// of the exponentials.
func genRow[T graph.Float](row, bias []T, t int, mean bool) (mx, zt, avg, sum float64) {
	bias = bias[:len(row)]
	if graph.Is32[T]() {
		r32, b32 := graph.As32(row), graph.As32(bias)
		m := float32(math.Inf(-1))
		for j, b := range b32 {
			z := r32[j] + b
			r32[j] = z
			if z > m {
				m = z
			}
		}
		zt = float64(r32[t])
		if mean {
			for _, z := range r32 {
				avg += float64(z)
			}
			avg /= float64(len(r32))
		}
		return float64(m), zt, avg, graph.ExpsShifted32(r32, r32, m)
	}
	mx = math.Inf(-1)
	for j, b := range bias {
		row[j] += b
		if z := float64(row[j]); z > mx {
			mx = z
		}
		avg += float64(row[j])
	}
	avg /= float64(len(row))
	zt = float64(row[t])
	for j, z := range row {
		e := math.Exp(float64(z) - mx)
		row[j] = T(e)
		sum += e
	}
	return mx, zt, avg, sum
}

// genPrepare turns the kept exponentials into the logits' gradient, in place.
func genPrepare[T graph.Float](k genLossKernel, bf *genBufs[T], in []*tensor.Dense, g float64) {
	n, _, v := genSizes(in)
	ids := graph.Ints(in[3])
	mask := floats[T](in, 4)
	off := k.eps / float64(v)
	workers := graph.Workers(n, v)
	bf.db = graph.Scratch(k.st, bf.db, workers*v)
	clear(bf.db)
	graph.ParallelWorkers(n, v, func(w, lo, hi int) {
		db := bf.db[w*v : (w+1)*v]
		for r := lo; r < hi; r++ {
			row := bf.z[r*v : (r+1)*v]
			wr := weightOf(k, mask, ids, r)
			if wr == 0 || bf.total == 0 {
				clear(row)
				continue
			}
			c := g * wr / bf.total
			a, b := T(c*bf.inv[r]), T(c*off)
			for j, ev := range row {
				d := a*ev - b
				row[j] = d
				db[j] += d
			}
			t := T(c * (1 - k.eps))
			row[ids[r]] -= t
			db[ids[r]] -= t
		}
	})
	for w := 1; w < workers; w++ {
		for j, d := range bf.db[w*v : (w+1)*v] {
			bf.db[j] += d
		}
	}
}

func genBackward[T graph.Float](k genLossKernel, grad []T, wrt int, in []*tensor.Dense, g float64) {
	bf := graph.Buffers[genBufs[T]](k.st)
	k.st.Once(func() { genPrepare(k, bf, in, g) })
	n, e, v := genSizes(in)
	x, w := floats[T](in, 0), floats[T](in, 1)
	switch wrt {
	case 0: // dX = dZ W
		graph.Gemm(false, false, n, e, v, bf.z, v, w, e, 0, grad, e)
	case 1: // dW = dZ^T X
		graph.Gemm(true, false, v, e, n, bf.z, v, x, e, 0, grad, e)
	case 2:
		copy(grad, bf.db[:v])
	}
}

var _ graph.Kernel = genLossKernel{}

// Overwrites implements graph.Overwriter: the three gradients are written whole
// (two products and a copy of the bias sums).
func (genLossKernel) Overwrites(int) bool { return true }
