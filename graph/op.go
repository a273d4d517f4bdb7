package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is a computation of the project's own, written directly over tensors: its
// forward pass and its backward pass. Apply turns it into a Gorgonia node whose
// symbolic derivative is a second node running the backward pass, so kernels take
// part in Grad and the TapeMachine like built-in ops.
//
// Both passes write into a buffer they are handed: graph allocates it once per
// node, with the output's shape (or, for a gradient, the input's), and keeps it
// from run to run, so that a training step allocates nothing for the kernel. The
// buffer arrives zeroed unless the kernel is an Overwriter that says it writes all
// of it. Forward and Backward run a kernel outside a graph.
//
// A kernel is a value: its Key must name every attribute that changes its results,
// because Gorgonia merges nodes whose ops hash equal (the cause of Gorgonia's
// SoftMax/LogSoftMax mix-up).
type Kernel interface {
	// Key identifies the kernel and all of its attributes, e.g. "softmax(axis=1)".
	Key() string
	// OutputShape returns the output shape for the given input shapes; an empty
	// shape means a scalar.
	OutputShape(in []tensor.Shape) (tensor.Shape, error)
	// Differentiable reports, per input, whether BackwardInto can produce its
	// gradient.
	Differentiable(nIn int) []bool
	// ForwardInto computes the output into out, which has the output's shape and
	// the dtype of the first differentiable input (of the first input when none
	// is). Inputs must not be modified.
	ForwardInto(out *tensor.Dense, in []*tensor.Dense) error
	// BackwardInto computes into grad, which has the shape and dtype of input
	// wrt, the gradient of the loss with respect to that input, given the inputs,
	// the forward output and the gradient of the loss with respect to it.
	BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, out, gradOut *tensor.Dense) error
}

// Overwriter is an optional interface of a Kernel whose ForwardInto (wrt -1) or
// BackwardInto (wrt, an input) writes every element of the buffer it is handed:
// that buffer is then not zeroed before the call, which saves a pass over it on
// every run. A kernel that accumulates into its buffer (a column sum, a
// scatter-add) must answer false.
type Overwriter interface {
	Overwrites(wrt int) bool
}

// overwrites reports whether k declares that it writes all of its buffer.
func overwrites(k Kernel, wrt int) bool {
	o, ok := k.(Overwriter)
	return ok && o.Overwrites(wrt)
}

// NoGradient is embedded by a kernel none of whose inputs is differentiable; its
// BackwardInto, which a graph never calls, returns an error.
type NoGradient struct{}

// BackwardInto returns an error: no input of the kernel has a gradient.
func (NoGradient) BackwardInto(*tensor.Dense, int, []*tensor.Dense, *tensor.Dense, *tensor.Dense) error {
	return errors.New("no input of this kernel is differentiable")
}

// Forward runs the forward pass of k over in outside a graph, into a new zeroed
// tensor of the output's shape (0-d for a scalar output).
func Forward(k Kernel, in []*tensor.Dense) (*tensor.Dense, error) {
	s, err := k.OutputShape(shapesOf(in))
	if err != nil {
		return nil, errors.Wrap(err, k.Key())
	}
	out := NewDense(in[outputDtypeInput(k, len(in))].Dtype(), s...)
	if err := k.ForwardInto(out, in); err != nil {
		return nil, errors.Wrap(err, k.Key())
	}
	return out, nil
}

// Backward runs the backward pass of k for input wrt outside a graph, into a new
// zeroed tensor of that input's shape and dtype.
func Backward(k Kernel, wrt int, in []*tensor.Dense, out, gradOut *tensor.Dense) (*tensor.Dense, error) {
	grad := NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	if err := k.BackwardInto(grad, wrt, in, out, gradOut); err != nil {
		return nil, errors.Wrapf(err, "%s: gradient of input %d", k.Key(), wrt)
	}
	return grad, nil
}

// shapesOf returns the shapes of tensors or nodes.
func shapesOf[S interface{ Shape() tensor.Shape }](xs []S) []tensor.Shape {
	shapes := make([]tensor.Shape, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape()
	}
	return shapes
}

// outputDtypeInput is the input whose dtype the output of k has: the first
// differentiable one, or the first input when none is.
func outputDtypeInput(k Kernel, nIn int) int {
	for i, d := range k.Differentiable(nIn) {
		if d {
			return i
		}
	}
	return 0
}

// Apply adds a node computing k over the inputs to their graph.
func Apply(k Kernel, inputs ...*G.Node) (*G.Node, error) {
	if len(inputs) == 0 {
		return nil, errors.Errorf("%s: no inputs", k.Key())
	}
	outShape, err := k.OutputShape(shapesOf(inputs))
	if err != nil {
		return nil, errors.Wrap(err, k.Key())
	}
	dt := inputs[outputDtypeInput(k, len(inputs))].Dtype()
	op := &fwdOp{k: k, in: nodeTypes(inputs), outShape: outShape, outType: typeOf(outShape.Dims(), dt)}
	return G.ApplyOp(op, inputs...)
}

// WantInputs checks a kernel's input count in OutputShape: required inputs, and
// one more for each optional input present (each true flag).
func WantInputs(in []tensor.Shape, required int, optional ...bool) error {
	want := required
	for _, present := range optional {
		if present {
			want++
		}
	}
	if len(in) != want {
		return errors.Errorf("%d inputs, want %d", len(in), want)
	}
	return nil
}

// MustApply is Apply that panics; for use where the shapes are known to be right.
func MustApply(k Kernel, inputs ...*G.Node) *G.Node {
	n, err := Apply(k, inputs...)
	if err != nil {
		panic(err)
	}
	return n
}

func typeOf(dims int, dt tensor.Dtype) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

func nodeTypes(ns []*G.Node) []hm.Type {
	ts := make([]hm.Type, len(ns))
	for i, n := range ns {
		ts[i] = typeOf(n.Dims(), n.Dtype())
	}
	return ts
}

func fnType(in []hm.Type, out hm.Type) hm.Type {
	ts := append(append([]hm.Type(nil), in...), out)
	return hm.NewFnType(ts...)
}

// AsDense returns a Gorgonia value as a dense tensor; scalars become 0-d tensors
// sharing nothing with the value.
func AsDense(v G.Value) (*tensor.Dense, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		return x, nil
	case *G.F64:
		return tensor.New(tensor.FromScalar(float64(*x))), nil
	case *G.F32:
		return tensor.New(tensor.FromScalar(float32(*x))), nil
	case nil:
		return nil, errors.New("nil value")
	}
	return nil, errors.Errorf("unsupported value type %T", v)
}

// toValue returns t as the Value Gorgonia expects for a node of the given dims:
// a scalar value for 0-d outputs.
func toValue(t *tensor.Dense, dims int) (G.Value, error) {
	if dims > 0 {
		return t, nil
	}
	if t.Shape().TotalSize() != 1 {
		return nil, errors.Errorf("scalar output has shape %v", t.Shape())
	}
	switch d := t.Data().(type) {
	case []float64:
		return G.NewF64(d[0]), nil
	case float64:
		return G.NewF64(d), nil
	case []float32:
		return G.NewF32(d[0]), nil
	case float32:
		return G.NewF32(d), nil
	}
	return nil, errors.Errorf("unsupported scalar dtype %v", t.Dtype())
}

func denseAll(vs []G.Value) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, err := AsDense(v)
		if err != nil {
			return nil, errors.Wrapf(err, "input %d", i)
		}
		out[i] = d
	}
	return out, nil
}

func hashOf(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

type fwdOp struct {
	k        Kernel
	in       []hm.Type
	outShape tensor.Shape
	outType  hm.Type
	buf      *tensor.Dense // the output, reused run after run
	arena    *Arena        // the program's, which lends buf's memory run by run
	// transient: the kernel's scratch is free again once its forward pass
	// returns (no gradient, and no other node, reads it later in the run)
	transient bool
	value     *liveValue   // buf's value in this run
	reads     []*liveValue // the kernel nodes' values among the inputs
}

// nodeBuffer returns the buffer of a kernel node's value for this run: over the
// arena's memory where it can serve (recorded in v, when not nil), else the
// node's own (reusable).
func nodeBuffer(a *Arena, buf **tensor.Dense, dtype tensor.Dtype, shape tensor.Shape, overwritten bool, v *liveValue) *tensor.Dense {
	if t := denseIn(a, buf, dtype, shape, overwritten); t != nil {
		v.took(a)
		return t
	}
	return reusable(buf, dtype, shape, overwritten)
}

// lendArena makes the kernel nodes of g take their values' memory, and their
// kernels their scratch, from a. In a forward-only program a kernel's scratch
// is lent for its forward pass alone, unless another node reads it later.
func lendArena(g *G.ExprGraph, a *Arena, training bool) {
	lend := func(k Kernel) (shared bool) {
		if s, ok := k.(Stateful); ok && s.Runs() != nil {
			s.Runs().arena = a
			return s.Runs().shared
		}
		return false
	}
	for _, n := range g.AllNodes() {
		switch op := n.Op().(type) {
		case *fwdOp:
			op.arena = a
			op.transient = !lend(op.k) && !training
		case *bwdOp:
			op.arena = a
			lend(op.k)
		case *sinkOp:
			op.arena = a
		}
	}
}

// reusable returns buf, allocated on first use with dtype and shape, zeroed
// unless the kernel overwrites all of it anyway.
func reusable(buf **tensor.Dense, dtype tensor.Dtype, shape tensor.Shape, overwritten bool) *tensor.Dense {
	if *buf == nil || (*buf).Dtype() != dtype {
		*buf = NewDense(dtype, shape...)
	} else if !overwritten {
		(*buf).Zero()
	}
	return *buf
}

func (op *fwdOp) Arity() int                                     { return len(op.in) }
func (op *fwdOp) Type() hm.Type                                  { return fnType(op.in, op.outType) }
func (op *fwdOp) ReturnsPtr() bool                               { return false }
func (op *fwdOp) CallsExtern() bool                              { return false }
func (op *fwdOp) OverwritesInput() int                           { return -1 }
func (op *fwdOp) String() string                                 { return op.k.Key() }
func (op *fwdOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "triad.%s%v", op.k.Key(), op.outShape) }
func (op *fwdOp) Hashcode() uint32                               { return hashOf(fmt.Sprintf("triad.%s%v", op.k.Key(), op.outShape)) }
func (op *fwdOp) DiffWRT(n int) []bool                           { return op.k.Differentiable(n) }
func (op *fwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }

func (op *fwdOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := denseAll(vs)
	if err != nil {
		return nil, errors.Wrap(err, op.k.Key())
	}
	out := nodeBuffer(op.arena, &op.buf, in[outputDtypeInput(op.k, len(in))].Dtype(), op.outShape, overwrites(op.k, -1), op.value)
	if op.transient {
		defer op.forgetScratch(op.arena.mark())
	}
	if err := op.k.ForwardInto(out, in); err != nil {
		return nil, errors.Wrap(err, op.k.Key())
	}
	done(op.arena, op.reads)
	return toValue(out, op.outShape.Dims())
}

// forgetScratch ends the forward pass of a transient kernel: the buffers it
// took after mark m go back to the arena, and the kernel lets go of them.
func (op *fwdOp) forgetScratch(m int) {
	op.arena.giveBack(m)
	if s, ok := op.k.(Stateful); ok && s.Runs() != nil {
		s.Runs().bufs = nil
	}
}

func (op *fwdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	diff := op.k.Differentiable(len(inputs))
	grads := make(G.Nodes, len(inputs))
	args := append(append(G.Nodes{}, inputs...), output, grad)
	for i, d := range diff {
		if !d {
			continue
		}
		b := &bwdOp{k: op.k, wrt: i, in: append(nodeTypes(inputs), typeOf(output.Dims(), output.Dtype()), typeOf(grad.Dims(), grad.Dtype())), outShape: inputs[i].Shape().Clone(), outType: typeOf(inputs[i].Dims(), inputs[i].Dtype())}
		g, err := G.ApplyOp(b, args...)
		if err != nil {
			return nil, errors.Wrapf(err, "%s: gradient of input %d", op.k.Key(), i)
		}
		grads[i] = g
	}
	return grads, nil
}

// bwdOp computes the gradient of one input of a kernel; its inputs are the forward
// inputs, the forward output and the output's gradient.
type bwdOp struct {
	k        Kernel
	wrt      int
	in       []hm.Type
	outShape tensor.Shape
	outType  hm.Type
	buf      *tensor.Dense
	arena    *Arena
	value    *liveValue
	reads    []*liveValue
}

func (op *bwdOp) key() string           { return fmt.Sprintf("triad.d%s/d%d%v", op.k.Key(), op.wrt, op.outShape) }
func (op *bwdOp) Arity() int            { return len(op.in) }
func (op *bwdOp) Type() hm.Type         { return fnType(op.in, op.outType) }
func (op *bwdOp) ReturnsPtr() bool      { return false }
func (op *bwdOp) CallsExtern() bool     { return false }
func (op *bwdOp) OverwritesInput() int  { return -1 }
func (op *bwdOp) String() string        { return op.key() }
func (op *bwdOp) WriteHash(h hash.Hash) { h.Write([]byte(op.key())) }
func (op *bwdOp) Hashcode() uint32      { return hashOf(op.key()) }
func (op *bwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape.Clone(), nil
}

func (op *bwdOp) Do(vs ...G.Value) (G.Value, error) {
	all, err := denseAll(vs)
	if err != nil {
		return nil, errors.Wrap(err, op.key())
	}
	n := len(all) - 2
	g := nodeBuffer(op.arena, &op.buf, all[op.wrt].Dtype(), op.outShape, overwrites(op.k, op.wrt), op.value)
	if err := op.k.BackwardInto(g, op.wrt, all[:n], all[n], all[n+1]); err != nil {
		return nil, errors.Wrap(err, op.key())
	}
	done(op.arena, op.reads)
	return toValue(g, op.outShape.Dims())
}

var (
	_ G.SDOp = (*fwdOp)(nil)
	_ G.Op   = (*bwdOp)(nil)
)
