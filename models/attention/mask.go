package attention

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// MaskValue is the additive mask value of an excluded position. It is at or below
// graph.MaskThreshold, so graph.SoftMax gives the position exactly zero weight and
// no gradient, and it is finite, so masks can be added without making NaN.
const MaskValue = -1e9

// KeepMask returns a (B, T) tensor of 1 for the first lengths[b] positions of row b
// and 0 for the padding after them.
func KeepMask(dtype tensor.Dtype, lengths []int, t int) *tensor.Dense {
	v := make([]float64, len(lengths)*t)
	for b, l := range lengths {
		for i := 0; i < l && i < t; i++ {
			v[b*t+i] = 1
		}
	}
	return graph.FromFloat64s(dtype, v, len(lengths), t)
}

// PaddingMask returns the additive (B, Tq, Tk) mask that lets every query of row b
// attend to the first lengths[b] keys: 0 there, MaskValue on the padding keys.
func PaddingMask(dtype tensor.Dtype, lengths []int, tq, tk int) *tensor.Dense {
	v := make([]float64, len(lengths)*tq*tk)
	for b, l := range lengths {
		for q := 0; q < tq; q++ {
			for k := l; k < tk; k++ {
				v[(b*tq+q)*tk+k] = MaskValue
			}
		}
	}
	return graph.FromFloat64s(dtype, v, len(lengths), tq, tk)
}

// CausalMask returns the additive (T, T) mask of a left-to-right decoder: query i
// may attend to keys j <= i; keys j > i (the future) hold MaskValue.
func CausalMask(dtype tensor.Dtype, t int) *tensor.Dense {
	v := make([]float64, t*t)
	for i := 0; i < t; i++ {
		for j := i + 1; j < t; j++ {
			v[i*t+j] = MaskValue
		}
	}
	return graph.FromFloat64s(dtype, v, t, t)
}

// AttentionMask builds, in the graph, the additive (B, tq, Tk) mask of keep (B, Tk)
// (a float node of 1 for real keys and 0 for padding): 0 where a query may attend,
// MaskValue on padding keys and, when causal, on keys after the query's position.
// It is not differentiated.
func AttentionMask(b *graph.Builder, keep *G.Node, tq int, causal bool) *G.Node {
	if keep == nil {
		return b.Fail(errors.New("attention mask: nil keep mask"))
	}
	return b.Check(graph.Apply(keyMaskKernel{tq: tq, causal: causal}, keep))
}

// ---- keyMask ----

// keyMaskKernel turns keep (B, Tk), 1 for a real key and 0 for padding, into an
// additive mask (B, Tq, Tk): 0 where attention is allowed, MaskValue where the key
// is padding or (causal) in the future of the query (key index > query index).
type keyMaskKernel struct {
	graph.NoGradient
	tq     int
	causal bool
}

func (k keyMaskKernel) Key() string {
	return fmt.Sprintf("attention.key_mask(tq=%d,causal=%t)", k.tq, k.causal)
}

func (k keyMaskKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 2 {
		return nil, errors.Errorf("key mask: keep %v, want (B, Tk)", s)
	}
	return tensor.Shape{s[0], k.tq, s[1]}, nil
}

func (keyMaskKernel) Differentiable(int) []bool { return []bool{false} }

func (k keyMaskKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() {
			fillKeyMask(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), s[0], k.tq, s[1], k.causal)
		},
		func() {
			fillKeyMask(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), s[0], k.tq, s[1], k.causal)
		})
}

func fillKeyMask[T graph.Float](keep, out []T, b, tq, tk int, causal bool) {
	for bi := 0; bi < b; bi++ {
		for q := 0; q < tq; q++ {
			row := out[(bi*tq+q)*tk : (bi*tq+q+1)*tk]
			for j := range row {
				if keep[bi*tk+j] == 0 || (causal && j > q) {
					row[j] = MaskValue
				}
			}
		}
	}
}
