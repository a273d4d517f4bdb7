package vae

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// fuseReLU makes the hidden layers with the relu activation one node each
// (linearReLU) instead of graph.Linear (or DataLinear) followed by Gorgonia's
// Rectify, whose forward and backward allocate and make several passes. The
// tests turn it off to compare the two forms.
var fuseReLU = true

// hiddenLayer returns act(x W^T + b) for a hidden layer; data says that x is
// the data (not differentiated).
func (m *VAE) hiddenLayer(b *graph.Builder, l *graph.Linear, x *G.Node, data bool) *G.Node {
	if x == nil {
		return nil
	}
	if fuseReLU && m.Config.Activation == "relu" {
		return b.Check(graph.Apply(linearReLU{data: data, st: &graph.Runs{}}, x, b.Param(l.Weight), b.Param(l.Bias)))
	}
	if data {
		return m.activate(b, DataLinear(l, b, x))
	}
	return m.activate(b, l.Forward(b, x))
}

// linearReLU is y = max(x W^T + b, 0) for x (B, in), W (out, in), b (out). The
// first gradient asked for in a run masks the output's gradient once, gh =
// g [y > 0]; then dx = gh W, dW = gh^T x, db = column sums of gh. With data, x
// gets no gradient.
type linearReLU struct {
	data bool
	st   *graph.Runs // shared with the gradient nodes: the masked gradient gh, a *[]T
}

func (k linearReLU) Key() string {
	if k.data {
		return "vae.linear_relu(data)"
	}
	return "vae.linear_relu"
}

func (linearReLU) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	return dataLinear{}.OutputShape(in)
}

func (k linearReLU) Differentiable(int) []bool { return []bool{!k.data, true, true} }

// ForwardInto writes max(x W^T + b, 0) into out.
func (k linearReLU) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	k.st.Forward()
	return graph.Dispatch(out.Dtype(),
		func() {
			y := graph.Slice[float32](out)
			dataLinearForward(y, graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), graph.Slice[float32](in[2]))
			for i, v := range y { // the sign bit clears the value, without a branch
				y[i] = math.Float32frombits(math.Float32bits(v) &^ uint32(int32(math.Float32bits(v))>>31))
			}
		},
		func() {
			y := graph.Slice[float64](out)
			dataLinearForward(y, graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), graph.Slice[float64](in[2]))
			for i, v := range y {
				y[i] = math.Max(v, 0)
			}
		})
}

// BackwardInto writes the gradient of x (wrt 0), W (1) or b (2) into grad.
func (k linearReLU) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, out, g *tensor.Dense) error {
	if err := k.st.Started("vae"); err != nil {
		return err
	}
	return graph.Dispatch(grad.Dtype(),
		func() {
			reluBackward(k, wrt, graph.Slice[float32](grad), in, graph.Slice[float32](out), graph.Slice[float32](g))
		},
		func() {
			reluBackward(k, wrt, graph.Slice[float64](grad), in, graph.Slice[float64](out), graph.Slice[float64](g))
		})
}

func reluBackward[T graph.Float](k linearReLU, wrt int, grad []T, in []*tensor.Dense, y, g []T) {
	buf := graph.Buffers[[]T](k.st)
	k.st.Once(func() {
		if cap(*buf) < len(g) {
			*buf = make([]T, len(g))
		}
		*buf = (*buf)[:len(g)]
		reluMask(*buf, g, y)
	})
	gh := *buf
	m, kk := in[0].Shape()[0], in[0].Shape()[1]
	n := in[1].Shape()[0]
	if wrt == 0 { // dx (m, kk) = gh (m, n) W (n, kk)
		graph.Gemm(false, false, m, kk, n, gh, n, graph.Slice[T](in[1]), kk, 0, grad, kk)
		return
	}
	dataLinearBackward(wrt, grad, graph.Slice[T](in[0]), gh, m, n, kk)
}

var _ graph.Kernel = linearReLU{}

// Overwrites implements graph.Overwriter: the output and every gradient are
// written whole (the bias gradient's sum clears its buffer first).
func (linearReLU) Overwrites(int) bool { return true }

// reluMask sets gh = g where y > 0 and 0 elsewhere (y >= 0 is a relu's output).
func reluMask[T graph.Float](gh, g, y []T) {
	if graph.Is32[T]() { // without branches: the signs are unpredictable
		gh32, g32, y32 := graph.As32(gh), graph.As32(g)[:len(y)], graph.As32(y)
		for i, v := range y32 {
			// all ones when v > 0: v >= 0, so its bits are a non-negative
			// integer, positive exactly when v > 0, and then -bits is negative
			keep := uint32(-int32(math.Float32bits(v)) >> 31)
			gh32[i] = math.Float32frombits(math.Float32bits(g32[i]) & keep)
		}
		return
	}
	for i, v := range y {
		if v > 0 {
			gh[i] = g[i]
		} else {
			gh[i] = 0
		}
	}
}
