package graph

import (
	"testing"

	"github.com/pkg/errors"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// shapeCheck builds y from parameters of the given shapes, checks y's shape and
// the float64 gradients of a weighted sum of it; inputs are fed before the check.
func shapeCheck(t *testing.T, shapes [][]int, want tensor.Shape, inputs map[string]*tensor.Dense, f func(b *Builder, xs []*G.Node) *G.Node) {
	t.Helper()
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	b := NewBuilder(s, Train)
	var xs []*G.Node
	for i, sh := range shapes {
		xs = append(xs, b.Param(s.Must(string(rune('a'+i)), sh, Normal(0, 1))))
	}
	y := f(b, xs)
	require.NoError(t, b.Err())
	require.Equal(t, want, y.Shape())
	loss, r := weightedSum(t, b, y, 3)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", r))
	for name, v := range inputs {
		require.NoError(t, p.Set(name, v))
	}
	require.NoError(t, CheckGrad(p, CheckOptions{}))
}

func TestShapeOpGradients(t *testing.T) {
	t.Run("stack", func(t *testing.T) {
		shapeCheck(t, [][]int{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}, tensor.Shape{2, 3, 3, 4}, nil, func(b *Builder, xs []*G.Node) *G.Node {
			return Stack(b, xs)
		})
	})
	t.Run("concat", func(t *testing.T) {
		shapeCheck(t, [][]int{{2, 3, 4}, {2, 3, 1}, {2, 3, 2}}, tensor.Shape{2, 3, 7}, nil, func(b *Builder, xs []*G.Node) *G.Node {
			return Concat(b, xs...)
		})
	})
	t.Run("scale", func(t *testing.T) {
		shapeCheck(t, [][]int{{3, 5}}, tensor.Shape{3, 5}, nil, func(b *Builder, xs []*G.Node) *G.Node {
			return Scale(b, xs[0], -1.5)
		})
	})
	t.Run("pick", func(t *testing.T) {
		pos := map[string]*tensor.Dense{"pos": FromInts([]int{3, 0, 1}, 3)}
		shapeCheck(t, [][]int{{3, 4, 2, 2}}, tensor.Shape{3, 2, 2}, pos, func(b *Builder, xs []*G.Node) *G.Node {
			return Pick(b, xs[0], b.Input("pos", tensor.Int, 3))
		})
	})
}

func TestShapeOpValues(t *testing.T) {
	x := FromFloat64s(tensor.Float32, []float64{0, 1, 2, 3, 4, 5}, 2, 3)
	y := FromFloat64s(tensor.Float32, []float64{6, 7}, 2, 1)
	cat, err := Forward(concatKernel{}, []*tensor.Dense{x, y})
	require.NoError(t, err)
	require.Equal(t, []float32{0, 1, 2, 6, 3, 4, 5, 7}, Slice[float32](cat))
	st, err := Forward(stackKernel{}, []*tensor.Dense{x, x})
	require.NoError(t, err)
	require.Equal(t, tensor.Shape{2, 2, 3}, st.Shape())
	require.Equal(t, []float32{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}, Slice[float32](st))
	sc, err := Forward(scaleKernel{c: 2}, []*tensor.Dense{x})
	require.NoError(t, err)
	require.Equal(t, []float32{0, 2, 4, 6, 8, 10}, Slice[float32](sc))
	// pick (2, 3) rows of (2, 3, 1): row 0 position 2, row 1 position 0
	x3 := FromFloat64s(tensor.Float64, []float64{0, 1, 2, 3, 4, 5}, 2, 3, 1)
	pos := FromInts([]int{2, 0}, 2)
	pk, err := Forward(pickKernel{}, []*tensor.Dense{x3, pos})
	require.NoError(t, err)
	require.Equal(t, []float64{2, 3}, Slice[float64](pk))
	g, err := Backward(pickKernel{}, 0, []*tensor.Dense{x3, pos}, pk, FromFloat64s(tensor.Float64, []float64{10, 20}, 2, 1))
	require.NoError(t, err)
	require.Equal(t, []float64{0, 0, 10, 20, 0, 0}, Slice[float64](g))
	_, err = Forward(pickKernel{}, []*tensor.Dense{x3, FromInts([]int{3, 0}, 2)})
	require.ErrorContains(t, err, "position 3 of row 0 outside [0, 3)")
}

func TestDispatch(t *testing.T) {
	var got string
	f := func(dt tensor.Dtype) error {
		return Dispatch(dt, func() { got = "32" }, func() { got = "64" })
	}
	require.NoError(t, f(tensor.Float32))
	require.Equal(t, "32", got)
	require.NoError(t, f(tensor.Float64))
	require.Equal(t, "64", got)
	require.ErrorContains(t, f(tensor.Int), "unsupported dtype int")
	errTest := errors.New("test")
	err := Dispatch(tensor.Float64, func() error { return nil }, func() error { return errTest })
	require.Equal(t, errTest, err)
	require.True(t, Is32[float32]())
	require.False(t, Is32[float64]())
}

func TestSetFloat64s(t *testing.T) {
	d32, d64 := NewDense(tensor.Float32, 3), NewDense(tensor.Float64, 3)
	require.NoError(t, SetFloat64s(d32, []float64{1, 0.1, -2}))
	require.NoError(t, SetFloat64s(d64, []float64{1, 0.1, -2}))
	require.Equal(t, []float32{1, 0.1, -2}, Slice[float32](d32))
	require.Equal(t, []float64{1, 0.1, -2}, Slice[float64](d64))
	require.Error(t, SetFloat64s(FromInts([]int{1}, 1), []float64{1}))
}

// The layer norm with kept statistics (LayerNormRows, LayerNormBackRows) agrees
// with the LayerNorm kernel in float64.
func TestLayerNormRowsMatchKernel(t *testing.T) {
	const rows, d = 5, 7
	xs, x := randomTensor(2, rows, d)
	ws, w := randomTensor(3, d)
	bs, bias := randomTensor(4, d)
	gs, g := randomTensor(5, rows, d)
	k := layerNormKernel{eps: 1e-5}
	in := []*tensor.Dense{x, w, bias}
	want, err := Forward(k, in)
	require.NoError(t, err)
	y, xhat, rstd := make([]float64, rows*d), make([]float64, rows*d), make([]float64, rows)
	LayerNormRows(y, xhat, rstd, xs, ws, bs, d, 1e-5)
	require.Equal(t, Slice[float64](want), y)
	dx, err := Backward(k, 0, in, want, g)
	require.NoError(t, err)
	got := make([]float64, rows*d)
	LayerNormBackRows(got, gs, xhat, rstd, ws, d, false)
	require.InDeltaSlice(t, Slice[float64](dx), got, 1e-12)
	LayerNormBackRows(got, gs, xhat, rstd, ws, d, true)
	for i, v := range Slice[float64](dx) {
		require.InDelta(t, 2*v, got[i], 1e-12)
	}
}

func TestExpGeneric(t *testing.T) {
	require.Equal(t, Exp32(1.5), Exp[float32](1.5))
	require.Equal(t, 2.718281828459045, Exp[float64](1))
}

// onesKernel fills its output with ones; nothing is differentiated.
type onesKernel struct{ NoGradient }

func (onesKernel) Key() string                                         { return "ones" }
func (onesKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (onesKernel) Differentiable(int) []bool                           { return []bool{false} }
func (onesKernel) ForwardInto(out *tensor.Dense, _ []*tensor.Dense) error {
	return SetFloat64s(out, []float64{1, 1})
}

func TestNoGradient(t *testing.T) {
	x := NewDense(tensor.Float64, 2)
	y, err := Forward(onesKernel{}, []*tensor.Dense{x})
	require.NoError(t, err)
	require.Equal(t, []float64{1, 1}, Slice[float64](y))
	_, err = Backward(onesKernel{}, 0, []*tensor.Dense{x}, y, y)
	require.ErrorContains(t, err, "ones: gradient of input 0: no input of this kernel is differentiable")
}

// A RowReader reads float32 rows as float64 (exactly, in reused memory) or as
// they are (views); the rows of odd widths go through the scalar tail.
func TestRowReader(t *testing.T) {
	for _, width := range []int{1, 8, 13} {
		data := make([]float32, 3*width)
		for i := range data {
			data[i] = float32(i)*0.37 - 5
		}
		x := tensor.New(tensor.WithShape(3, width), tensor.WithBacking(data))
		var r RowReader
		rows := r.Rows(x)
		views := r.Rows32(x)
		require.Len(t, rows, 3)
		for i, row := range rows {
			require.Len(t, row, width)
			for j, v := range row {
				require.Equal(t, float64(data[i*width+j]), v)
			}
			require.Equal(t, data[i*width:(i+1)*width], views[i])
		}
		data[width] = 42
		require.Equal(t, float32(42), views[1][0], "Rows32 gives views")
		require.NotEqual(t, 42.0, rows[1][0], "Rows gives copies")
	}
}
