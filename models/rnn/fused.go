package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The fused path runs one direction of one layer over the whole sequence as a
// single graph node (fusedKernel) instead of a handful of nodes per time step.
// Its forward pass computes the input projection of all T steps in one matrix
// product, X W_ih^T + b_ih (+ b_hh), then the recurrence with one product
// h_{t-1} W_hh^T per step, and keeps the gate activations of every step. Its
// backward pass runs back-propagation through time once per run and keeps the
// gradients of the pre-activations of every step, dA (T*B, G), from which
//
//	dX = dA W_ih,   dW_ih = dA^T X,   dW_hh = dA^T H_prev,   db = column sums of dA
//
// are each one matrix product over all steps (H_prev stacks the state each step
// started from). The Kernel interface asks for the gradient of one input at a
// time; the first request of a run computes dA and the later ones read it.
//
// Output layout: a ((T+S)*B, H) tensor whose rows t*B..(t+1)*B-1 hold the output
// of step t (in time order for both directions), followed by the final h (B rows)
// and, for an LSTM, the final c (B rows): S is 1, or 2 for an LSTM. rowsKernel
// cuts the sequence and the states out of it.

// fusedKernel is one direction of one layer over a whole sequence. Inputs:
// x (T*B, I) time-major, W_ih (G, I), W_hh (G, H), b_ih (G), b_hh (G), h0 (B, H),
// c0 (B, H) for an LSTM, mask (T*B, 1) when masked, and, for an embedded kernel,
// the token ids (T*B) (tensor.Int), x then being the embedding table (V, I) whose
// rows the ids select. Neither the mask nor the ids are differentiated.
//
// An embedded kernel projects the table instead of the sequence: X W_ih^T is the
// rows ids of the (V, G) table E W_ih^T, and with S (V, G) the rows of dA_x summed
// by id, dW_ih = S^T E and dE = S W_ih: products over V rows instead of T*B.
type fusedKernel struct {
	cell     Cell
	steps    int
	reverse  bool // iterate t from T-1 down to 0
	masked   bool
	embedded bool
	st       *graph.Runs // per node: activations and gradients of the current run, in a *seqBufs[T]
}

func newFusedKernel(cell Cell, steps int, reverse, masked, embedded bool) fusedKernel {
	return fusedKernel{cell: cell, steps: steps, reverse: reverse, masked: masked, embedded: embedded, st: &graph.Runs{}}
}

// Runs lends the kernel the program's arena for its buffers.
func (k fusedKernel) Runs() *graph.Runs { return k.st }

func (k fusedKernel) Key() string {
	return fmt.Sprintf("rnn.fused(%s,T=%d,reverse=%t,masked=%t,embedded=%t)", k.cell, k.steps, k.reverse, k.masked, k.embedded)
}

// states returns how many state blocks follow the outputs: h, and c for an LSTM.
func (k fusedKernel) states() int {
	if k.cell == LSTM {
		return 2
	}
	return 1
}

// nIn returns the number of inputs the kernel takes.
func (k fusedKernel) nIn() int {
	n := 6
	if k.cell == LSTM {
		n++
	}
	if k.masked {
		n++
	}
	if k.embedded {
		n++
	}
	return n
}

// maskAt and idsAt return the positions of the mask and the ids among the inputs.
func (k fusedKernel) maskAt() int {
	if k.embedded {
		return k.nIn() - 2
	}
	return k.nIn() - 1
}

func (k fusedKernel) idsAt() int { return k.nIn() - 1 }

func (k fusedKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != k.nIn() {
		return nil, errors.Errorf("%d inputs, want %d", len(in), k.nIn())
	}
	x, wih, whh, bih, bhh, h0 := in[0], in[1], in[2], in[3], in[4], in[5]
	if h0.Dims() != 2 || k.steps <= 0 {
		return nil, errors.Errorf("state %v, %d steps", h0, k.steps)
	}
	b, h := h0[0], h0[1]
	g := k.cell.gates() * h
	if k.embedded {
		if ids := in[k.idsAt()]; x.Dims() != 2 || ids.TotalSize() != k.steps*b {
			return nil, errors.Errorf("table %v, ids %v for %d steps of batch %d", x, ids, k.steps, b)
		}
	} else if x.Dims() != 2 || x[0] != k.steps*b {
		return nil, errors.Errorf("input %v for %d steps of batch %d", x, k.steps, b)
	}
	if wih.Dims() != 2 || wih[0] != g || wih[1] != x[1] || whh.Dims() != 2 || whh[0] != g || whh[1] != h {
		return nil, errors.Errorf("weights %v, %v for input %d, hidden %d, %d gates", wih, whh, x[1], h, k.cell.gates())
	}
	if bih.TotalSize() != g || bhh.TotalSize() != g {
		return nil, errors.Errorf("biases %v, %v for %d gate rows", bih, bhh, g)
	}
	if k.cell == LSTM && !in[6].Eq(h0) {
		return nil, errors.Errorf("cell state %v, hidden state %v", in[6], h0)
	}
	if k.masked {
		if m := in[k.maskAt()]; m.TotalSize() != k.steps*b {
			return nil, errors.Errorf("mask %v for %d steps of batch %d", m, k.steps, b)
		}
	}
	return tensor.Shape{(k.steps + k.states()) * b, h}, nil
}

func (k fusedKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	if k.masked && k.maskAt() < n {
		d[k.maskAt()] = false
	}
	if k.embedded && k.idsAt() < n {
		d[k.idsAt()] = false
	}
	return d
}

func (k fusedKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	k.st.Forward()
	return graph.Dispatch(in[0].Dtype(), func() error { return fusedForward[float32](k, out, in) },
		func() error { return fusedForward[float64](k, out, in) })
}

func (k fusedKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	if err := k.st.Started("fused recurrent layer"); err != nil {
		return err
	}
	return graph.Dispatch(in[0].Dtype(), func() { fusedBackward[float32](k, grad, wrt, in, gradOut) },
		func() { fusedBackward[float64](k, grad, wrt, in, gradOut) })
}

// seqShape holds the sizes of one fused layer.
type seqShape struct {
	T, B, I, H, G int
	V             int // rows of the embedding table, for an embedded kernel
	reverse       bool
}

// at returns the time index of the tau-th step processed.
func (s seqShape) at(tau int) int {
	if s.reverse {
		return s.T - 1 - tau
	}
	return tau
}

// blk returns rows t*B..(t+1)*B-1 of a row-major matrix of width w.
func blk[T graph.Float](v []T, t, b, w int) []T { return v[t*b*w : (t+1)*b*w] }

// seqBufs holds what a fused layer keeps between its forward and backward
// passes. In a program its slices are the arena's memory of the run in
// progress (graph.Scratch): taken afresh by every forward pass (the activations)
// and every backward pass (the gradients), and in a forward-only program given
// back as soon as the node has run.
type seqBufs[T graph.Float] struct {
	hp    []T // (T*B, H): the state h each step starts from
	gates []T // (T*B, G): pre-activations, then activations (LSTM i f g o; GRU r z n; Elman h)
	aux   []T // (T*B, H): LSTM c each step starts from; GRU (h W_hh^T + b_hh)'s n block
	aux2  []T // (T*B, H): LSTM tanh of the new c
	gh    []T // (B, G): GRU recurrent product of one step
	bias  []T // (G): the bias added to the input projection
	proj  []T // (V, G): an embedded kernel's table projection E W_ih^T + bias
	dgx   []T // (T*B, G): gradient of the input pre-activations
	dgh   []T // (T*B, G): of the recurrent ones (dgx itself except for the GRU)
	dsum  []T // (V, G): an embedded kernel's dgx rows summed by id
	dbx   []T // (G): gradient of b_ih
	dbh   []T // (G): of b_hh (dbx except for the GRU)
	dh    []T // (B, H): running gradient of h; dh0 after the backward pass
	dc    []T // (B, H): the same for the LSTM c
}

func (k fusedKernel) shape(in []*tensor.Dense) seqShape {
	h0 := in[5].Shape()
	s := seqShape{T: k.steps, B: h0[0], H: h0[1], I: in[0].Shape()[1], reverse: k.reverse}
	s.G = k.cell.gates() * s.H
	if k.embedded {
		s.V = in[0].Shape()[0]
	}
	return s
}

// forwardBuffers returns the node's buffers for dtype T with the slices of a
// forward pass taken for this pass; each holds whatever was there before, and
// the pass writes every element before it reads it.
func forwardBuffers[T graph.Float](k fusedKernel, s seqShape) *seqBufs[T] {
	c, st := graph.Buffers[seqBufs[T]](k.st), k.st
	n, nh := s.T*s.B*s.G, s.T*s.B*s.H
	c.hp, c.gates, c.bias = graph.Scratch(st, c.hp, nh), graph.Scratch(st, c.gates, n), graph.Scratch(st, c.bias, s.G)
	switch k.cell {
	case LSTM:
		c.aux, c.aux2 = graph.Scratch(st, c.aux, nh), graph.Scratch(st, c.aux2, nh)
	case GRU:
		c.aux, c.gh = graph.Scratch(st, c.aux, nh), graph.Scratch(st, c.gh, s.B*s.G)
	}
	if k.embedded {
		c.proj = graph.Scratch(st, c.proj, s.V*s.G)
	}
	return c
}

// takeGradients takes the slices of a backward pass for c, which back-propagation
// through time writes before it reads.
func takeGradients[T graph.Float](k fusedKernel, c *seqBufs[T], s seqShape) {
	st, n := k.st, s.T*s.B*s.G
	c.dgx, c.dbx, c.dh = graph.Scratch(st, c.dgx, n), graph.Scratch(st, c.dbx, s.G), graph.Scratch(st, c.dh, s.B*s.H)
	c.dgh, c.dbh = c.dgx, c.dbx
	switch k.cell {
	case LSTM:
		c.dc = graph.Scratch(st, c.dc, s.B*s.H)
	case GRU:
		c.dgh, c.dbh = graph.Scratch(st, c.dgh, n), graph.Scratch(st, c.dbh, s.G)
	}
	if k.embedded {
		c.dsum = graph.Scratch(st, c.dsum, s.V*s.G)
	}
}

// maskOf returns the mask's values, or nil for an unmasked kernel.
func maskOf[T graph.Float](k fusedKernel, in []*tensor.Dense) []T {
	if !k.masked {
		return nil
	}
	return graph.Slice[T](in[k.maskAt()])
}

func fusedForward[T graph.Float](k fusedKernel, out *tensor.Dense, in []*tensor.Dense) error {
	s := k.shape(in)
	c := forwardBuffers[T](k, s)
	x, wih, whh := graph.Slice[T](in[0]), graph.Slice[T](in[1]), graph.Slice[T](in[2])
	bih, bhh, h0 := graph.Slice[T](in[3]), graph.Slice[T](in[4]), graph.Slice[T](in[5])
	y, mask := graph.Slice[T](out), maskOf[T](k, in)
	// the input pre-activations of all steps: the bias (b_ih + b_hh, or b_ih alone
	// for the GRU, whose b_hh is inside the reset gate's product), then one product
	if k.cell == GRU {
		copy(c.bias, bih)
	} else {
		for j := range c.bias {
			c.bias[j] = bih[j] + bhh[j]
		}
	}
	in0 := stepInput[T]{c: c, s: s}
	if k.embedded {
		// the table's projection with the bias, whose rows each step copies
		graph.Gemm(false, true, s.V, s.G, s.I, x, s.I, wih, s.I, 0, c.proj, s.G)
		for v := 0; v < s.V; v++ {
			graph.AddTo(c.proj[v*s.G:(v+1)*s.G], c.bias)
		}
		in0.ids = graph.Ints(in[k.idsAt()])
		for r, id := range in0.ids {
			if id < 0 || id >= s.V {
				return errors.Errorf("id %d at position %d outside [0, %d)", id, r, s.V)
			}
		}
	} else {
		// the projection of every step, to which each step adds the bias
		graph.Gemm(false, true, s.T*s.B, s.G, s.I, x, s.I, wih, s.I, 0, c.gates, s.G)
	}
	copy(blk(c.hp, s.at(0), s.B, s.H), h0)
	switch k.cell {
	case LSTM:
		copy(blk(c.aux, s.at(0), s.B, s.H), graph.Slice[T](in[6]))
		lstmSeqForward(c, s, in0, whh, mask, y)
	case GRU:
		gruSeqForward(c, s, in0, whh, bhh, mask, y)
	default:
		elmanSeqForward(c, s, in0, whh, mask, y, k.cell == ReLU)
	}
	return nil
}

// stepInput completes the input pre-activations of a step before its recurrent
// product is added: for an embedded kernel it copies the projected table's rows
// (bias included) into c.gates; otherwise c.gates holds X W_ih^T and bias adds
// the bias to a row.
type stepInput[T graph.Float] struct {
	c   *seqBufs[T]
	s   seqShape
	ids []int // the embedded kernel's ids; nil otherwise
}

// prepare fills step t's rows of c.gates for an embedded kernel.
func (p stepInput[T]) prepare(t int) {
	if p.ids == nil {
		return
	}
	G := p.s.G
	a := blk(p.c.gates, t, p.s.B, G)
	for b, id := range p.ids[t*p.s.B : (t+1)*p.s.B] {
		copy(a[b*G:(b+1)*G], p.c.proj[id*G:(id+1)*G])
	}
}

// bias adds the bias to one row of pre-activations, unless prepare put it there.
func (p stepInput[T]) bias(row []T) {
	if p.ids == nil {
		graph.AddTo(row, p.c.bias)
	}
}

// next returns where step tau writes the state it ends with: the block the next
// step starts from, or the final state's rows of y after the last step.
func next[T graph.Float](v, y []T, s seqShape, tau, finalBlock int) []T {
	if tau+1 < s.T {
		return blk(v, s.at(tau+1), s.B, s.H)
	}
	return blk(y, finalBlock, s.B, s.H)
}

// backThroughTime runs back-propagation through time: the gradients of the
// pre-activations of every step, which each input's gradient reads, into
// buffers it takes for this pass.
func backThroughTime[T graph.Float](k fusedKernel, c *seqBufs[T], s seqShape, in []*tensor.Dense, gradOut *tensor.Dense) {
	takeGradients(k, c, s)
	whh, gy, mask := graph.Slice[T](in[2]), graph.Slice[T](gradOut), maskOf[T](k, in)
	switch k.cell {
	case LSTM:
		lstmSeqBackward(c, s, whh, mask, gy)
	case GRU:
		gruSeqBackward(c, s, whh, mask, gy)
	default:
		elmanSeqBackward(c, s, whh, mask, gy, k.cell == ReLU)
	}
	if k.embedded {
		clear(c.dsum)
		for r, id := range graph.Ints(in[k.idsAt()]) {
			graph.AddTo(c.dsum[id*s.G:(id+1)*s.G], c.dgx[r*s.G:(r+1)*s.G])
		}
	}
}

func fusedBackward[T graph.Float](k fusedKernel, grad *tensor.Dense, wrt int, in []*tensor.Dense, gradOut *tensor.Dense) {
	s := k.shape(in)
	c := graph.Buffers[seqBufs[T]](k.st)
	k.st.Once(func() { backThroughTime(k, c, s, in, gradOut) })
	d := graph.Slice[T](grad)
	rows := s.T * s.B
	switch {
	case wrt == 0 && k.embedded: // dE = S W_ih
		graph.Gemm(false, false, s.V, s.I, s.G, c.dsum, s.G, graph.Slice[T](in[1]), s.I, 0, d, s.I)
	case wrt == 0: // dX = dA_x W_ih
		graph.Gemm(false, false, rows, s.I, s.G, c.dgx, s.G, graph.Slice[T](in[1]), s.I, 0, d, s.I)
	case wrt == 1 && k.embedded: // dW_ih = S^T E
		graph.Gemm(true, false, s.G, s.I, s.V, c.dsum, s.G, graph.Slice[T](in[0]), s.I, 0, d, s.I)
	case wrt == 1: // dW_ih = dA_x^T X
		graph.Gemm(true, false, s.G, s.I, rows, c.dgx, s.G, graph.Slice[T](in[0]), s.I, 0, d, s.I)
	case wrt == 2: // dW_hh = dA_h^T H_prev
		graph.Gemm(true, false, s.G, s.H, rows, c.dgh, s.G, c.hp, s.H, 0, d, s.H)
	case wrt == 3:
		copy(d, c.dbx)
	case wrt == 4:
		copy(d, c.dbh)
	case wrt == 5:
		copy(d, c.dh)
	case wrt == 6:
		copy(d, c.dc)
	}
}

// rowsKernel returns rows [from, from+n) of a 2-D tensor; its gradient puts the
// output's gradient back in place, zero elsewhere.
type rowsKernel struct{ from, n int }

func (k rowsKernel) Key() string { return fmt.Sprintf("rnn.rows(%d,%d)", k.from, k.n) }

func (k rowsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || k.from < 0 || k.n <= 0 || k.from+k.n > in[0][0] {
		return nil, errors.Errorf("rows [%d, %d) of %v", k.from, k.from+k.n, in[0])
	}
	return tensor.Shape{k.n, in[0][1]}, nil
}

func (rowsKernel) Differentiable(int) []bool { return []bool{true} }

func (k rowsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	w := in[0].Shape()[1]
	return graph.Dispatch(in[0].Dtype(), func() { copy(graph.Slice[float32](out), graph.Slice[float32](in[0])[k.from*w:]) },
		func() { copy(graph.Slice[float64](out), graph.Slice[float64](in[0])[k.from*w:]) })
}

func (k rowsKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	w := in[0].Shape()[1]
	return graph.Dispatch(in[0].Dtype(), func() { copy(graph.Slice[float32](grad)[k.from*w:], graph.Slice[float32](gradOut)) },
		func() { copy(graph.Slice[float64](grad)[k.from*w:], graph.Slice[float64](gradOut)) })
}

var (
	_ graph.Kernel = fusedKernel{}
	_ graph.Kernel = rowsKernel{}
	_ graph.Kernel = batchMajorKernel{}
)

// ForwardSeq runs the stack over a whole sequence with one fused node per layer
// and direction, whatever Config.Fused says. x is (steps*B, Input), time-major
// (row t*B+b is step t of sequence b); mask, when not nil, is (steps*B, 1) with the
// meaning Forward gives its masks. It returns the last layer's outputs
// (steps*B, OutputSize), time-major, and the final state.
func (r *RNN) ForwardSeq(b *graph.Builder, x *G.Node, steps int, init State, mask *G.Node) (*G.Node, State) {
	return r.forwardSeq(b, x, nil, steps, init, mask)
}

// ForwardEmbedded is ForwardSeq over the rows of an embedding table (V, Input)
// selected by ids (steps*B token ids, time-major, tensor.Int), without dropout on
// them: the first layer projects the V rows of the table instead of the steps*B
// rows of the sequence, and its backward pass multiplies the gradients summed by
// id, so that it pays off where V is smaller than steps*B (characters, small
// vocabularies). An id outside [0, V) is an error at run time.
func (r *RNN) ForwardEmbedded(b *graph.Builder, table, ids *G.Node, steps int, init State, mask *G.Node) (*G.Node, State) {
	if ids == nil || ids.Dtype() != tensor.Int {
		b.Fail(errors.New("rnn: ids must be a tensor.Int node"))
		return nil, State{}
	}
	return r.forwardSeq(b, table, ids, steps, init, mask)
}

// forwardSeq is ForwardSeq, or ForwardEmbedded when ids is not nil (x is then the
// table).
func (r *RNN) forwardSeq(b *graph.Builder, x, ids *G.Node, steps int, init State, mask *G.Node) (*G.Node, State) {
	var final State
	if b.Err() != nil {
		return nil, final
	}
	if x == nil {
		b.Fail(errors.New("rnn: nil input"))
		return nil, final
	}
	if len(init.H) != r.States() || (r.Cell == LSTM && len(init.C) != r.States()) {
		b.Fail(errors.Errorf("rnn: initial state has %d h and %d c tensors, want %d", len(init.H), len(init.C), r.States()))
		return nil, final
	}
	batch := init.H[0].Shape()[0]
	if x.Dims() != 2 {
		b.Fail(errors.Errorf("rnn: input %v, want (steps*batch, %d)", x.Shape(), r.Input))
		return nil, final
	}
	rows := x.Shape()[0]
	if ids != nil {
		rows = ids.Shape().TotalSize()
	}
	if steps <= 0 || rows != steps*batch || x.Shape()[1] != r.Input {
		b.Fail(errors.Errorf("rnn: input %v for %d steps of batch %d and input size %d", x.Shape(), steps, batch, r.Input))
		return nil, final
	}
	for l := 0; l < r.Layers; l++ {
		if l > 0 {
			x = graph.Dropout(b, x, r.Dropout)
		}
		seqs := make([]*G.Node, r.Directions())
		for d := range seqs {
			k := l*r.Directions() + d
			w := r.Weights[l][d]
			args := []*G.Node{x, b.Param(w.IH), b.Param(w.HH), b.Param(w.BiasIH), b.Param(w.BiasHH), init.H[k]}
			if r.Cell == LSTM {
				args = append(args, init.C[k])
			}
			if mask != nil {
				args = append(args, mask)
			}
			embedded := ids != nil && l == 0
			if embedded {
				args = append(args, ids)
			}
			y := b.Check(graph.Apply(newFusedKernel(r.Cell, steps, d == 1, mask != nil, embedded), args...))
			if y == nil {
				return nil, State{}
			}
			seqs[d] = b.Check(graph.Apply(rowsKernel{0, steps * batch}, y))
			final.H = append(final.H, b.Check(graph.Apply(rowsKernel{steps * batch, batch}, y)))
			if r.Cell == LSTM {
				final.C = append(final.C, b.Check(graph.Apply(rowsKernel{(steps + 1) * batch, batch}, y)))
			}
		}
		x = seqs[0]
		if len(seqs) == 2 {
			x = graph.Concat(b, seqs...)
		}
	}
	return x, final
}

// forwardFused is Forward through ForwardSeq: the steps are stacked into one
// input, and the output is cut back into steps.
func (r *RNN) forwardFused(b *graph.Builder, xs []*G.Node, init State, masks []*G.Node) ([]*G.Node, State) {
	x := StackSteps(b, xs)
	var mask *G.Node
	if masks != nil {
		mask = StackSteps(b, masks)
	}
	seq, final := r.ForwardSeq(b, x, len(xs), init, mask)
	if b.Err() != nil {
		return nil, State{}
	}
	return Steps(b, seq, len(xs)), final
}
