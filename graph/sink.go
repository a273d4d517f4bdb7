package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// sinkOp copies (or, with add, accumulates) its input into a tensor owned by the
// program at the moment the input is computed. Reading values this way is immune
// to the TapeMachine reusing a node's memory later in the same run.
type sinkOp struct {
	dst   *tensor.Dense
	add   bool
	in    hm.Type
	name  string
	arena *Arena       // the program's, when reads is not empty
	reads []*liveValue // the value read, when a kernel node's
}

func (op *sinkOp) Arity() int                                     { return 1 }
func (op *sinkOp) Type() hm.Type                                  { return hm.NewFnType(op.in, tensor.Float64) }
func (op *sinkOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op *sinkOp) ReturnsPtr() bool                               { return false }
func (op *sinkOp) CallsExtern() bool                              { return false }
func (op *sinkOp) OverwritesInput() int                           { return -1 }
func (op *sinkOp) String() string                                 { return "sink(" + op.name + ")" }
func (op *sinkOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "triad.sink(%p)", op.dst) }
func (op *sinkOp) Hashcode() uint32                               { return hashOf(fmt.Sprintf("triad.sink(%p)", op.dst)) }

var sinkDone = G.NewF64(0)

func (op *sinkOp) Do(vs ...G.Value) (G.Value, error) {
	src, err := AsDense(vs[0])
	if err != nil {
		return nil, errors.Wrap(err, op.name)
	}
	if src.Shape().TotalSize() != op.dst.Shape().TotalSize() || src.Dtype() != op.dst.Dtype() {
		return nil, errors.Errorf("%s: value %v %v does not fit %v %v", op.name, src.Dtype(), src.Shape(), op.dst.Dtype(), op.dst.Shape())
	}
	err = Dispatch(op.dst.Dtype(),
		func() { copyOrAdd(Slice[float32](op.dst), Slice[float32](src), op.add) },
		func() { copyOrAdd(Slice[float64](op.dst), Slice[float64](src), op.add) })
	if err != nil {
		return nil, errors.Wrap(err, op.name)
	}
	done(op.arena, op.reads)
	return sinkDone, nil
}

func copyOrAdd[T Float](dst, src []T, add bool) {
	if !add {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}
