package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/avx2"
)

// attnSubKernel is a whole attention sub-layer of a Transformer layer as one
// graph node: multi-head attention (MultiHead.Forward) of x over itself or over a
// memory, its dropout, the residual connection and the layer norm, post-LN
//
//	out = LN(x + drop(MHA(x, kv)))
//
// or pre-LN, out = x + drop(MHA(LN(x), kv)), kv being x itself (self-attention)
// or the memory (cross-attention; pre-LN normalises only the query side).
//
// Forward: the query, key and value projections are one matrix product over all
// rows (self-attention: X W_in^T + b_in, (B*T, 3E)); each head's scores and
// context are products over strided views of it (no copies into a head-major
// layout), the masked softmax runs in place, the context lands directly in the
// merged (B*T, E) layout, then the output projection, the residual and the norm.
// Backward: the first gradient requested in a run computes the gradients of the
// projections, dQKV, and of the norm's input; each input's gradient is then one
// product or sum (dX = dQKV W_in, dW_in = dQKV^T X, ...), computed straight into
// the gradient buffer.
//
// Inputs: x (B, Tq, E); memory (B, Tk, E) for cross-attention; in_proj_weight
// (3E, E), in_proj_bias (3E), out_proj.weight (E, E), out_proj.bias (E), norm
// weight (E) and bias (E); then, when present, the additive mask (B, Tq, Tk),
// the attention dropout mask (B*H, Tq, Tk) and the residual dropout mask
// (B, Tq, E) (graph.BernoulliMask values). Masks are not differentiated.
type attnSubKernel struct {
	residualNorm // its graph.Runs is shared with the node that reads the weights
	heads        int
	cross        bool
	masked       bool
	attnDrop     bool
}

// attnBufs holds what a fused attention sub-layer keeps between its forward and
// backward passes, allocated on the first run and reused (*attnBufs[float32] or
// *attnBufs[float64] in its graph.Runs). The rows of normBufs are the query
// side's, B*Tq; dxin is the gradient of the query projection's input.
type attnBufs[T graph.Float] struct {
	normBufs[T]
	q, kv   []T // projections: self (B*T, 3E) in both; cross (B*Tq, E) and (B*Tk, 2E)
	p, pd   []T // (B*H, Tq, Tk) softmax weights, and after dropout
	o       []T // (B*Tq, E) merged context
	y       []T // (B*Tq, E) output projection, then the residual sum (post-LN)
	dy      []T // (B*Tq, E) gradient of the output projection
	do      []T // (B*Tq, E) gradient of the merged context
	dq, dkv []T // gradients of the projections (self: one (B*T, 3E) buffer)
	dpd     []T // (Tq, Tk) scratch
}

// newAttnSubKernel returns a kernel with its own state.
func newAttnSubKernel(heads int, cross, preLN bool, eps float64, masked, attnDrop, residDrop bool) attnSubKernel {
	return attnSubKernel{residualNorm: residualNorm{preLN: preLN, eps: eps, residDrop: residDrop, st: &graph.Runs{}},
		heads: heads, cross: cross, masked: masked, attnDrop: attnDrop}
}

// Key names the attributes and, through the state's address, the node itself: two
// fused nodes are never merged, so a weights node always reads its own.
func (k attnSubKernel) Key() string {
	return fmt.Sprintf("transformer.fused_attn(h=%d,cross=%t,preln=%t,eps=%g,mask=%t,attndrop=%t,residdrop=%t)@%p",
		k.heads, k.cross, k.preLN, k.eps, k.masked, k.attnDrop, k.residDrop, k.st)
}

// Input positions.
func (k attnSubKernel) kvAt() int {
	if k.cross {
		return 1
	}
	return 0
}
func (k attnSubKernel) paramAt() int { return 1 + k.kvAt() } // in_proj_weight; then 5 more
func (k attnSubKernel) nIn() int {
	n := k.paramAt() + 6
	for _, b := range []bool{k.masked, k.attnDrop, k.residDrop} {
		if b {
			n++
		}
	}
	return n
}
func (k attnSubKernel) maskAt() int { return optAt(k.paramAt()+6, k.masked) }
func (k attnSubKernel) attnDropAt() int {
	return optAt(k.paramAt()+6+btoi(k.masked), k.attnDrop)
}
func (k attnSubKernel) residDropAt() int {
	return optAt(k.paramAt()+6+btoi(k.masked)+btoi(k.attnDrop), k.residDrop)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// optAt returns i for a present input, -1 for a missing one.
func optAt(i int, present bool) int {
	if present {
		return i
	}
	return -1
}

func (k attnSubKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != k.nIn() {
		return nil, errors.Errorf("fused attention: %d inputs, want %d", len(in), k.nIn())
	}
	x, kv := in[0], in[k.kvAt()]
	if x.Dims() != 3 || kv.Dims() != 3 || kv[0] != x[0] || kv[2] != x[2] {
		return nil, errors.Errorf("fused attention: query %v, memory %v, want (B, Tq, E) and (B, Tk, E)", x, kv)
	}
	e := x[2]
	if k.heads <= 0 || e%k.heads != 0 {
		return nil, errors.Errorf("fused attention: width %d for %d heads", e, k.heads)
	}
	p := k.paramAt()
	want := []tensor.Shape{{3 * e, e}, {3 * e}, {e, e}, {e}, {e}, {e}}
	for i, w := range want {
		if !in[p+i].Eq(w) {
			return nil, errors.Errorf("fused attention: parameter %d has shape %v, want %v", i, in[p+i], w)
		}
	}
	b, tq, tk := x[0], x[1], kv[1]
	if i := k.maskAt(); i >= 0 && !in[i].Eq(tensor.Shape{b, tq, tk}) {
		return nil, errors.Errorf("fused attention: mask %v, want %v", in[i], tensor.Shape{b, tq, tk})
	}
	if i := k.attnDropAt(); i >= 0 && !in[i].Eq(tensor.Shape{b * k.heads, tq, tk}) {
		return nil, errors.Errorf("fused attention: weight dropout mask %v, want %v", in[i], tensor.Shape{b * k.heads, tq, tk})
	}
	if i := k.residDropAt(); i >= 0 && !in[i].Eq(x) {
		return nil, errors.Errorf("fused attention: output dropout mask %v, want %v", in[i], x)
	}
	return x.Clone(), nil
}

func (k attnSubKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	for i := 0; i < n && i < k.paramAt()+6; i++ {
		d[i] = true
	}
	return d
}

func (k attnSubKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return subForward(k, k.st, out, in, attnForward[float32], attnForward[float64])
}

func (k attnSubKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return subBackward(k, k.st, "fused attention", grad, wrt, in, g, attnBackward[float32], attnBackward[float64])
}

// attnDims are the sizes of one fused attention sub-layer and the layout of its
// projections: row strides ldq, ldkv and offsets of Q, K, V in their buffers.
type attnDims struct {
	b, tq, tk, e, h, d   int
	ldq, ldkv            int
	qOff, kOff, vOff     int
	scale                float64
	nq, nk               int // rows of the query and memory sides
	cross, preLN, masked bool
	kvRows               []int // the memory row each batch row attends to (nil: its own)
}

func (k attnSubKernel) dims(in []*tensor.Dense) attnDims {
	x, kv := in[0].Shape(), in[k.kvAt()].Shape()
	d := attnDims{b: x[0], tq: x[1], tk: kv[1], e: x[2], h: k.heads, cross: k.cross, preLN: k.preLN, masked: k.masked}
	d.d = d.e / d.h
	d.nq, d.nk = d.b*d.tq, d.b*d.tk
	d.scale = 1 / math.Sqrt(float64(d.d))
	if k.cross {
		d.ldq, d.ldkv, d.qOff, d.kOff, d.vOff = d.e, 2*d.e, 0, 0, d.e
	} else {
		d.ldq, d.ldkv, d.qOff, d.kOff, d.vOff = 3*d.e, 3*d.e, 0, d.e, 2*d.e
	}
	return d
}

// head returns head h's strided views of batch row bi's queries and of the keys
// and values of the memory row it attends to, in the projections bf.q and bf.kv.
func (bf *attnBufs[T]) head(d attnDims, bi, h int) (q, k, v []T) {
	kb := bi
	if d.kvRows != nil {
		kb = d.kvRows[bi]
	}
	q = bf.q[bi*d.tq*d.ldq+d.qOff+h*d.d:]
	k = bf.kv[kb*d.tk*d.ldkv+d.kOff+h*d.d:]
	v = bf.kv[kb*d.tk*d.ldkv+d.vOff+h*d.d:]
	return q, k, v
}

// attnBuffers returns the state's buffers for T, sized for d.
func attnBuffers[T graph.Float](st *graph.Runs, d attnDims, attnDrop bool) *attnBufs[T] {
	bf := graph.Buffers[attnBufs[T]](st)
	if d.cross {
		bf.q = graph.Scratch(st, bf.q, d.nq*d.e)
		bf.kv = graph.Scratch(st, bf.kv, d.nk*2*d.e)
	} else {
		bf.q = graph.Scratch(st, bf.q, d.nq*3*d.e)
		bf.kv = bf.q
	}
	bf.p = graph.Scratch(st, bf.p, d.b*d.h*d.tq*d.tk)
	if attnDrop {
		bf.pd = graph.Scratch(st, bf.pd, len(bf.p))
	} else {
		bf.pd = bf.p
	}
	rows := d.nq * d.e
	bf.o = graph.Scratch(st, bf.o, rows)
	bf.y = graph.Scratch(st, bf.y, rows)
	return bf
}

// project computes y = x W[lo:hi]^T + bias[lo:hi] for x (rows, E), into y with
// row stride ld.
func project[T graph.Float](y []T, ld int, x, w, bias []T, rows, e, lo, hi int) {
	n := hi - lo
	for r := 0; r < rows; r++ {
		copy(y[r*ld:r*ld+n], bias[lo:hi])
	}
	graph.Gemm(false, true, rows, n, e, x, e, w[lo*e:hi*e], e, 1, y, ld)
}

func attnForward[T graph.Float](k attnSubKernel, out []T, in []*tensor.Dense) {
	d := k.dims(in)
	bf := attnBuffers[T](k.st, d, k.attnDrop)
	p := k.paramAt()
	x, mem := floats[T](in, 0), floats[T](in, k.kvAt())
	win, bin, wo, bo, lw, lb := floats[T](in, p), floats[T](in, p+1), floats[T](in, p+2), floats[T](in, p+3), floats[T](in, p+4), floats[T](in, p+5)
	mask, adrop, rdrop := floats[T](in, k.maskAt()), floats[T](in, k.attnDropAt()), floats[T](in, k.residDropAt())
	e := d.e

	src := bf.branchInput(k.residualNorm, x, lw, lb, d.nq, e) // the query side's input to the projections
	if d.cross {
		project(bf.q, e, src, win, bin, d.nq, e, 0, e)
		project(bf.kv, 2*e, mem, win, bin, d.nk, e, e, 3*e)
	} else {
		project(bf.q, 3*e, src, win, bin, d.nq, e, 0, 3*e)
	}
	attnHeadsForward(d, bf, mask, adrop)
	// output projection, dropout and residual
	project(bf.y, e, bf.o, wo, bo, d.nq, e, 0, e)
	bf.output(k.residualNorm, out, x, bf.y, rdrop, lw, lb, e)
}

// attnHeadsForward computes every head's weights (bf.p, after dropout bf.pd) and
// its context into the merged layout bf.o.
func attnHeadsForward[T graph.Float](d attnDims, bf *attnBufs[T], mask, adrop []T) {
	per := d.tq * d.tk
	scale := T(d.scale)
	one := d.tq == 1 && d.tk > 0 && d.d%8 == 0 && graph.Is32[T]() && avx2.Available
	// batch rows are independent: one range of them per core
	graph.ParallelRows(d.b, d.h*per*d.d, func(lo, hi int) {
		for bi := lo; bi < hi; bi++ {
			var m []T
			if mask != nil {
				m = mask[bi*per : (bi+1)*per]
			}
			for h := 0; h < d.h; h++ {
				n := bi*d.h + h
				q, kk, v := bf.head(d, bi, h)
				s := bf.p[n*per : (n+1)*per]
				o := bf.o[bi*d.tq*d.e+h*d.d:]
				if one {
					// one query (a decoding step): its scores in registers
					// rather than through a BLAS call of 1 x tk x d
					avx2.DotRows32(graph.As32(s), graph.As32(q[:d.d]), graph.As32(kk[:(d.tk-1)*d.ldkv+d.d]), d.ldkv)
				} else {
					graph.Gemm(false, true, d.tq, d.tk, d.d, q, d.ldq, kk, d.ldkv, 0, s, d.tk)
				}
				softmaxScaled(s, m, scale, d.tk)
				pd := s
				if adrop != nil {
					pd = bf.pd[n*per : (n+1)*per]
					mulInto(pd, s, adrop[n*per:(n+1)*per])
				}
				if one {
					avx2.MixRows32(graph.As32(o[:d.d]), graph.As32(pd), graph.As32(v[:(d.tk-1)*d.ldkv+d.d]), d.ldkv)
				} else {
					graph.Gemm(false, false, d.tq, d.d, d.tk, pd, d.tk, v, d.ldkv, 0, o, d.e)
				}
			}
		}
	})
}

// softmaxScaled replaces each row (width tk) of s by softmax(scale s + mask) as
// graph.SoftMax computes it: a key whose mask is at or below
// graph.MaskThreshold gets weight 0, and a row without keys all zeros.
func softmaxScaled[T graph.Float](s, mask []T, scale T, tk int) {
	if graph.Is32[T]() {
		softmaxScaled32(graph.As32(s), graph.As32(mask), float32(scale), tk)
		return
	}
	for r := 0; r < len(s); r += tk {
		row := s[r : r+tk]
		mx := math.Inf(-1)
		for j, v := range row {
			z := float64(scale * v)
			if mask != nil {
				mv := float64(mask[r+j])
				if mv <= graph.MaskThreshold {
					row[j] = T(math.Inf(-1))
					continue
				}
				z += mv
			}
			row[j] = T(z)
			mx = math.Max(mx, z)
		}
		if math.IsInf(mx, -1) {
			clear(row)
			continue
		}
		var sum float64
		for j, v := range row {
			ev := graph.Exp(T(float64(v) - mx))
			row[j] = ev
			sum += float64(ev)
		}
		inv := 1 / sum
		for j, v := range row {
			row[j] = T(float64(v) * inv)
		}
	}
}

// softmaxScaled32 is softmaxScaled in float32 arithmetic, with graph.Exp32.
func softmaxScaled32(s, mask []float32, scale float32, tk int) {
	const excluded = graph.MaskThreshold
	ninf := float32(math.Inf(-1))
	for r := 0; r < len(s); r += tk {
		row := s[r : r+tk]
		mx := ninf
		if mask != nil {
			m := mask[r : r+tk]
			for j, v := range row {
				z := scale*v + m[j]
				if m[j] <= excluded {
					z = ninf
				}
				row[j] = z
				mx = max(mx, z)
			}
		} else {
			for j, v := range row {
				z := scale * v
				row[j] = z
				mx = max(mx, z)
			}
		}
		if mx == ninf {
			clear(row)
			continue
		}
		var sum float32
		for j, z := range row {
			e := graph.Exp32(z - mx)
			row[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range row {
			row[j] *= inv
		}
	}
}

// attnPrepare computes, once per run, the gradients shared by every input's:
// of the residual sum, the output projection, the context and the projections.
func attnPrepare[T graph.Float](k attnSubKernel, d attnDims, bf *attnBufs[T], in []*tensor.Dense, g []T) {
	p := k.paramAt()
	win, wo, lw := floats[T](in, p), floats[T](in, p+2), floats[T](in, p+4)
	rdrop, adrop := floats[T](in, k.residDropAt()), floats[T](in, k.attnDropAt())
	e, rows := d.e, d.nq*d.e
	bf.dy = graph.Scratch(k.st, bf.dy, rows)
	bf.do = graph.Scratch(k.st, bf.do, rows)
	bf.dxin = graph.Scratch(k.st, bf.dxin, rows)
	if d.cross {
		bf.dq = graph.Scratch(k.st, bf.dq, d.nq*e)
		bf.dkv = graph.Scratch(k.st, bf.dkv, d.nk*2*e)
	} else {
		bf.dq = graph.Scratch(k.st, bf.dq, d.nq*3*e)
		bf.dkv = bf.dq
	}
	// gradient of the output projection's result
	bf.branchGrad(k.residualNorm, bf.dy, g, rdrop, lw, e)
	graph.Gemm(false, false, d.nq, e, e, bf.dy, e, wo, e, 0, bf.do, e)
	attnHeadsBackward(k.st, d, bf, adrop)
	// gradient of the query side's input to the projections
	if d.cross {
		graph.Gemm(false, false, d.nq, e, e, bf.dq, e, win, e, 0, bf.dxin, e)
	} else {
		graph.Gemm(false, false, d.nq, e, 3*e, bf.dq, 3*e, win, e, 0, bf.dxin, e)
	}
}

// attnHeadsBackward computes, from the gradient of the merged context bf.do, the
// gradients of every head's Q, K and V into bf.dq and bf.dkv.
func attnHeadsBackward[T graph.Float](st *graph.Runs, d attnDims, bf *attnBufs[T], adrop []T) {
	per := d.tq * d.tk
	scale := T(d.scale)
	work := d.h * per * d.d
	bf.dpd = graph.Scratch(st, bf.dpd, per*graph.Workers(d.b, work))
	graph.ParallelWorkers(d.b, work, func(w, lo, hi int) {
		dp := bf.dpd[w*per : (w+1)*per]
		for bi := lo; bi < hi; bi++ {
			for h := 0; h < d.h; h++ {
				n := bi*d.h + h
				q, kk, v := bf.head(d, bi, h)
				dq := bf.dq[bi*d.tq*d.ldq+d.qOff+h*d.d:]
				dk := bf.dkv[bi*d.tk*d.ldkv+d.kOff+h*d.d:]
				dv := bf.dkv[bi*d.tk*d.ldkv+d.vOff+h*d.d:]
				do := bf.do[bi*d.tq*d.e+h*d.d:]
				pr := bf.p[n*per : (n+1)*per]
				pd := bf.pd[n*per : (n+1)*per]
				// dV = Pd^T dO, dPd = dO V^T
				graph.Gemm(true, false, d.tk, d.d, d.tq, pd, d.tk, do, d.e, 0, dv, d.ldkv)
				graph.Gemm(false, true, d.tq, d.tk, d.d, do, d.e, v, d.ldkv, 0, dp, d.tk)
				if adrop != nil {
					for j, m := range adrop[n*per : (n+1)*per] {
						dp[j] *= m
					}
				}
				// softmax: dZ = P (dP - rowsum(dP P)); the scores are scale Q K^T
				for r := 0; r < per; r += d.tk {
					prow, drow := pr[r:r+d.tk], dp[r:r+d.tk]
					var dot T
					for j, pv := range prow {
						dot += drow[j] * pv
					}
					for j, pv := range prow {
						drow[j] = scale * (pv * (drow[j] - dot))
					}
				}
				// dQ = dS K, dK = dS^T Q
				graph.Gemm(false, false, d.tq, d.d, d.tk, dp, d.tk, kk, d.ldkv, 0, dq, d.ldq)
				graph.Gemm(true, false, d.tk, d.d, d.tq, dp, d.tk, q, d.ldq, 0, dk, d.ldkv)
			}
		}
	})
}

func attnBackward[T graph.Float](k attnSubKernel, grad []T, wrt int, in []*tensor.Dense, g []T) {
	d := k.dims(in)
	bf := graph.Buffers[attnBufs[T]](k.st)
	k.st.Once(func() { attnPrepare(k, d, bf, in, g) })
	p := k.paramAt()
	x, mem := floats[T](in, 0), floats[T](in, k.kvAt())
	win, lw := floats[T](in, p), floats[T](in, p+4)
	e := d.e
	src := x
	if d.preLN {
		src = bf.n
	}
	switch {
	case wrt == 0: // x
		bf.grad(k.residualNorm, gradInput, grad, g, lw, e)
	case d.cross && wrt == 1: // memory: dKV W_in[E:3E]
		graph.Gemm(false, false, d.nk, e, 2*e, bf.dkv, 2*e, win[e*e:], e, 0, grad, e)
	case wrt == p: // in_proj_weight
		if d.cross {
			graph.Gemm(true, false, e, e, d.nq, bf.dq, e, src, e, 0, grad[:e*e], e)
			graph.Gemm(true, false, 2*e, e, d.nk, bf.dkv, 2*e, mem, e, 0, grad[e*e:], e)
			return
		}
		graph.Gemm(true, false, 3*e, e, d.nq, bf.dq, 3*e, src, e, 0, grad, e)
	case wrt == p+1: // in_proj_bias
		if d.cross {
			graph.AddColumnSums(grad[:e], bf.dq, d.nq, e)
			graph.AddColumnSums(grad[e:], bf.dkv, d.nk, 2*e)
			return
		}
		graph.AddColumnSums(grad, bf.dq, d.nq, 3*e)
	case wrt == p+2: // out_proj.weight: dY^T O
		graph.Gemm(true, false, e, e, d.nq, bf.dy, e, bf.o, e, 0, grad, e)
	case wrt == p+3: // out_proj.bias
		graph.AddColumnSums(grad, bf.dy, d.nq, e)
	case wrt == p+4:
		bf.grad(k.residualNorm, gradNormWeight, grad, g, lw, e)
	case wrt == p+5:
		bf.grad(k.residualNorm, gradNormBias, grad, g, lw, e)
	}
}

var _ graph.Kernel = attnSubKernel{}

// Overwrites implements graph.Overwriter: the output and the gradients of the
// inputs and weight matrices are written whole; those of the biases and the
// norm's parameters are column sums accumulated into their zeroed buffers.
func (k attnSubKernel) Overwrites(wrt int) bool {
	p := k.paramAt()
	return wrt < p+1 || wrt == p+2
}
