package losses

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// collapse merges repeated classes and drops blanks: the map B of Graves et al.
// 2006 from paths to labellings.
func collapse(path []int, blank int) []int {
	out := []int{}
	for t, c := range path {
		if c != blank && (t == 0 || path[t-1] != c) {
			out = append(out, c)
		}
	}
	return out
}

// bruteCTC sums over every one of the classes^frames paths of lp (frames,
// classes): it returns -log p(target) and its gradient with respect to lp,
// -(1/p) sum over the paths of target that emit c at t of their probability.
func bruteCTC(lp []float64, frames, classes int, target []int, blank int) (float64, []float64) {
	path := make([]int, frames)
	grad := make([]float64, len(lp))
	var p float64
	for {
		if slices.Equal(collapse(path, blank), target) {
			var s float64
			for t, c := range path {
				s += lp[t*classes+c]
			}
			pp := math.Exp(s)
			p += pp
			for t, c := range path {
				grad[t*classes+c] -= pp
			}
		}
		// next path, as a number in base classes
		t := 0
		for t < frames {
			path[t]++
			if path[t] < classes {
				break
			}
			path[t] = 0
			t++
		}
		if t == frames {
			break
		}
	}
	if p == 0 {
		return math.Inf(1), make([]float64, len(lp))
	}
	for i := range grad {
		grad[i] /= p
	}
	return -math.Log(p), grad
}

func intTensor(vals []int, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]int(nil), vals...)))
}

// ctcCase is a padded batch: example b has targets[b] over inLens[b] frames.
type ctcCase struct {
	T, C, blank int
	targets     [][]int
	inLens      []int
}

func (c ctcCase) padded() (tg []int, S int, tgLens []int) {
	for _, y := range c.targets {
		S = max(S, len(y))
	}
	S = max(S, 1)
	for _, y := range c.targets {
		row := make([]int, S)
		for i := range row {
			row[i] = 99 // padding is never read, whatever it holds
		}
		copy(row, y)
		tg = append(tg, row...)
		tgLens = append(tgLens, len(y))
	}
	return tg, S, tgLens
}

// build returns a training program of CTC over a parameter "lp" (T, B, C) of
// random values (not normalised: the recursions hold for any scores).
func (c ctcCase) build(t *testing.T, dt tensor.Dtype, opt CTCOptions, logits bool) (*harness, *graph.Program) {
	B := len(c.targets)
	tg, S, tgLens := c.padded()
	h := newHarness(t, dt)
	x := h.param("lp", fx{Shape: []int{c.T, B, c.C}})
	if logits {
		x = h.b.Check(graph.LogSoftMax(x, 2, nil))
	}
	loss := h.b.Check(CTC(x, h.input("targets", intTensor(tg, B, S)), h.input("in_lens", intTensor(c.inLens, B)),
		h.input("tgt_lens", intTensor(tgLens, B)), opt))
	return h, h.compile(loss)
}

// example returns the (inLens[b], C) log-probabilities of example b.
func example(lp []float64, T, B, C, b, frames int) []float64 {
	out := make([]float64, 0, frames*C)
	for t := range frames {
		out = append(out, lp[(t*B+b)*C:(t*B+b+1)*C]...)
	}
	return out
}

var bruteCases = []ctcCase{
	{T: 6, C: 4, blank: 0, targets: [][]int{{1, 3}, {1, 1}, {3, 1, 3}, {}, {2, 2, 2}, {1, 2, 3}}, inLens: []int{6, 4, 5, 2, 6, 3}},
	{T: 5, C: 3, blank: 2, targets: [][]int{{0, 1}, {1, 1, 0}, {0}}, inLens: []int{5, 5, 1}},
	{T: 4, C: 4, blank: 3, targets: [][]int{{0, 0}, {2, 1, 0}, {1}}, inLens: []int{4, 3, 4}},
}

// TestCTCBruteForce compares the loss and its gradient with the sum over every
// alignment, on padded batches with repeats, empty targets and a non-zero
// blank, for each reduction.
func TestCTCBruteForce(t *testing.T) {
	for ci, c := range bruteCases {
		B := len(c.targets)
		for _, r := range []Reduction{Sum, Mean, None} {
			t.Run(fmt.Sprintf("case%d/%s", ci, r), func(t *testing.T) {
				h, p := c.build(t, tensor.Float64, CTCOptions{Blank: c.blank, Reduction: r}, false)
				lp := graph.Float64s(h.params["lp"].Value)
				got := value(t, p)
				grad := graph.Float64s(h.params["lp"].Grad)
				// the harness's loss for None is sum_b r_b l_b
				var rw []float64
				if r == None {
					rw = graph.Float64s(h.feeds["r"])
				}
				var sum float64
				for b, y := range c.targets {
					ex := example(lp, c.T, B, c.C, b, c.inLens[b])
					want, wantGrad := bruteCTC(ex, c.inLens[b], c.C, y, c.blank)
					nll, err := CTCNegLogLikelihood(ex, c.inLens[b], c.C, y, c.blank, nil, 0)
					require.NoError(t, err)
					require.InDelta(t, want, nll, 1e-10*max(1, want), "example %d", b)
					w := 1.0
					switch r {
					case Mean:
						w = 1 / float64(B*max(len(y), 1))
					case None:
						require.InDelta(t, want, got[b], 1e-10*max(1, want), "loss of example %d", b)
						w = rw[b]
					}
					sum += w * want
					for tt := range c.T {
						for k := range c.C {
							g := grad[(tt*B+b)*c.C+k]
							if tt >= c.inLens[b] {
								require.Equal(t, 0.0, g, "padded frame %d of example %d", tt, b)
								continue
							}
							require.InDelta(t, w*wantGrad[tt*c.C+k], g, 1e-10, "gradient [%d, %d, %d]", tt, b, k)
						}
					}
				}
				if r != None {
					require.InDelta(t, sum, got[0], 1e-10*max(1, sum))
				}
			})
		}
	}
}

// TestCTCNegLogLikelihoodGradient checks the gradient of the single-sequence
// function against the brute-force sum.
func TestCTCNegLogLikelihoodGradient(t *testing.T) {
	const T, C = 5, 3
	lp := make([]float64, T*C)
	graph.NormalFloat64s(graph.NewRNG(3, "lp"), lp)
	for _, y := range [][]int{{1, 1}, {2, 1, 2}, {}} {
		want, wantGrad := bruteCTC(lp, T, C, y, 0)
		grad := make([]float64, T*C)
		got, err := CTCNegLogLikelihood(lp, T, C, y, 0, grad, 2)
		require.NoError(t, err)
		require.InDelta(t, want, got, 1e-10*max(1, want))
		for i := range grad {
			require.InDelta(t, 2*wantGrad[i], grad[i], 1e-10, "gradient %d of %v", i, y)
		}
	}
}

// TestCTCGradCheck checks the gradient numerically, with respect to the
// log-probabilities and to logits through LogSoftMax.
func TestCTCGradCheck(t *testing.T) {
	c := ctcCase{T: 5, C: 4, blank: 1, targets: [][]int{{2, 2}, {3, 0, 3}, {0}}, inLens: []int{5, 5, 3}}
	for _, r := range []Reduction{Mean, Sum, None} {
		for _, logits := range []bool{false, true} {
			_, p := c.build(t, tensor.Float64, CTCOptions{Blank: c.blank, Reduction: r}, logits)
			require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}), "%s logits=%v", r, logits)
		}
	}
}

// TestCTCImpossible: a target longer than its input allows gives +Inf (or 0
// with ZeroInfinity), a zero gradient for that example and never NaN; the
// other examples keep their gradient.
func TestCTCImpossible(t *testing.T) {
	c := ctcCase{T: 4, C: 3, targets: [][]int{{1, 1, 1}, {1, 2}, {2, 2}, {1}}, inLens: []int{4, 4, 2, 0}}
	// {1,1,1} needs 5 frames, {2,2} 3 frames, {1} one frame: examples 0, 2, 3 are impossible
	impossible := []bool{true, false, true, true}
	for _, zi := range []bool{false, true} {
		for _, r := range []Reduction{None, Sum, Mean} {
			h, p := c.build(t, tensor.Float64, CTCOptions{Reduction: r, ZeroInfinity: zi}, true)
			got := value(t, p)
			for _, v := range got {
				require.False(t, math.IsNaN(v))
			}
			if r == None {
				for b, imp := range impossible {
					switch {
					case imp && zi:
						require.Equal(t, 0.0, got[b])
					case imp:
						require.True(t, math.IsInf(got[b], 1), "example %d: %v", b, got[b])
					default:
						require.False(t, math.IsInf(got[b], 0))
					}
				}
			} else {
				require.Equal(t, !zi, math.IsInf(got[0], 1), "%s zero_infinity=%v: %v", r, zi, got[0])
			}
			grad := graph.Float64s(h.params["lp"].Grad)
			B := len(c.targets)
			for i, g := range grad {
				require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "gradient %d = %v", i, g)
				if impossible[(i/c.C)%B] {
					require.Equal(t, 0.0, g)
				}
			}
			require.NotZero(t, grad[1*c.C+0], "the possible example keeps its gradient")
		}
	}
	// zero frames and an empty target: probability 1
	nll, err := CTCNegLogLikelihood(nil, 0, 3, nil, 0, nil, 0)
	require.NoError(t, err)
	require.Equal(t, 0.0, nll)
}

func TestCTCErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	b := graph.NewBuilder(s, graph.Train)
	lp := b.Input("lp", tensor.Float64, 3, 2, 4)
	tg := b.Input("tg", tensor.Int, 2, 2)
	_, err := CTC(lp, b.Input("tg3", tensor.Int, 3, 2), nil, nil, CTCOptions{})
	require.ErrorContains(t, err, "targets of shape")
	_, err = CTC(lp, tg, nil, nil, CTCOptions{Blank: 4})
	require.ErrorContains(t, err, "blank 4")
	_, err = CTC(lp, b.Input("tgf", tensor.Float64, 2, 2), nil, nil, CTCOptions{})
	require.ErrorContains(t, err, "tensor.Int")
	_, err = CTC(b.Input("lp2", tensor.Float64, 6, 4), tg, nil, nil, CTCOptions{})
	require.ErrorContains(t, err, "(T, B, C)")

	// bad data is an error at run time, not a panic
	run := func(targets, inLens, tgtLens []int) error {
		s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
		b := graph.NewBuilder(s, graph.Eval)
		lp := b.Input("lp", tensor.Float64, 3, 2, 4)
		loss := b.Check(CTC(lp, b.Input("tg", tensor.Int, 2, 2), b.Input("il", tensor.Int, 2), b.Input("tl", tensor.Int, 2), CTCOptions{}))
		b.Output("loss", loss)
		p, err := b.Compile(nil)
		require.NoError(t, err)
		require.NoError(t, p.Set("tg", intTensor(targets, 2, 2)))
		require.NoError(t, p.Set("il", intTensor(inLens, 2)))
		require.NoError(t, p.Set("tl", intTensor(tgtLens, 2)))
		return p.Run()
	}
	require.NoError(t, run([]int{1, 2, 3, 0}, []int{3, 2}, []int{2, 1}))
	require.ErrorContains(t, run([]int{1, 2, 3, 0}, []int{4, 2}, []int{2, 1}), "input length 4 outside [0, 3]")
	require.ErrorContains(t, run([]int{1, 2, 3, 0}, []int{3, 2}, []int{2, 3}), "target length 3 outside [0, 2]")
	require.ErrorContains(t, run([]int{1, 0, 3, 0}, []int{3, 2}, []int{2, 1}), "is the blank")
	require.ErrorContains(t, run([]int{1, 7, 3, 0}, []int{3, 2}, []int{2, 1}), "label 7 at position 1 outside [0, 4)")
	_, err = CTCNegLogLikelihood(make([]float64, 5), 2, 3, nil, 0, nil, 0)
	require.Error(t, err)
}

// TestCTCMatchesPyTorch compares with torch.nn.functional.ctc_loss on a padded
// batch (losses/testdata/ctc_batch.safetensors, scripts/fixtures_ctc.py):
// losses, gradients with respect to logits through log_softmax, and PyTorch's
// gradient with respect to the log-probabilities, which is the true one plus
// exp(lp) g on real frames (PyTorchGradient reproduces it).
func TestCTCMatchesPyTorch(t *testing.T) {
	ts, meta, err := graph.LoadTensors(filepath.Join("testdata", "ctc_batch.safetensors"))
	require.NoError(t, err)
	require.Contains(t, meta["torch"], "1.13")
	ints := func(name string) []int {
		v, ok := ts[name]
		require.True(t, ok, name)
		var out []int
		for _, x := range v.Data().([]int64) {
			out = append(out, int(x))
		}
		return out
	}
	floats := func(name string) []float64 {
		v, ok := ts[name]
		require.True(t, ok, name)
		return graph.Float64s(v)
	}
	xs := ts["x"].Shape()
	T, Ball, C := xs[0], xs[1], xs[2]
	S := ts["targets"].Shape()[1]
	x, w := floats("x"), floats("w")
	cases := []struct {
		name string
		r    Reduction
		zi   bool
		B    int
	}{{"none", None, false, 3}, {"sum", Sum, false, 3}, {"mean", Mean, false, 3}, {"mean_zi", Mean, true, 4}, {"none_zi", None, true, 4}}
	for _, dt := range dtypes {
		tol := tolerance(dt)
		for _, c := range cases {
			for _, wrtLogits := range []bool{true, false} {
				for _, torchGrad := range []bool{false, true} {
					B := c.B
					// the first B examples of the batch
					sub := make([]float64, 0, T*B*C)
					for tt := range T {
						sub = append(sub, x[tt*Ball*C:tt*Ball*C+B*C]...)
					}
					if !wrtLogits {
						sub = logSoftmaxRows(sub, C)
					}
					h := newHarness(t, dt)
					in := h.param("x", fx{Shape: []int{T, B, C}, Data: sub})
					if wrtLogits {
						in = h.b.Check(graph.LogSoftMax(in, 2, nil))
					}
					tg := ints("targets")[:B*S]
					for i := range tg {
						tg[i] = max(tg[i], 0)
					}
					ctc := h.b.Check(CTC(in, h.input("tg", intTensor(tg, B, S)), h.input("il", intTensor(ints("input_lengths")[:B], B)),
						h.input("tl", intTensor(ints("target_lengths")[:B], B)), CTCOptions{Reduction: c.r, ZeroInfinity: c.zi, PyTorchGradient: torchGrad}))
					h.b.Output("ctc", ctc)
					loss := ctc
					if c.r == None { // the fixture's gradient is that of (loss * w).sum()
						loss = h.b.Check(G.Sum(h.b.Check(G.HadamardProd(ctc, h.floatInput("w", fx{Shape: []int{B}, Data: w[:B]})))))
					}
					p := h.compile(loss)
					msg := fmt.Sprintf("%s %v logits=%v torch_grad=%v", c.name, dt, wrtLogits, torchGrad)
					out, err := p.Output("ctc")
					require.NoError(t, err)
					requireClose(t, floats(c.name+".loss"), graph.Float64s(out), tol, msg)
					got := graph.Float64s(h.params["x"].Grad)
					switch {
					case wrtLogits:
						requireClose(t, floats(c.name+".grad_x"), got, tol, msg+" gradient")
					case torchGrad:
						requireClose(t, floats(c.name+".grad_lp"), got, tol, msg+" gradient")
					default:
						// PyTorch's gradient less exp(lp) g_b on the real frames of
						// finite examples, g_b the example's weight in the loss
						want := floats(c.name + ".grad_lp")
						inLens, tgtLens, nlls := ints("input_lengths"), ints("target_lengths"), floats("none_zi.loss")
						for i := range want {
							tt, b := i/(B*C), (i/C)%B
							if tt >= inLens[b] || nlls[b] == 0 {
								continue
							}
							g := 1.0
							switch c.r {
							case None:
								g = w[b]
							case Mean:
								g = 1 / float64(B*max(tgtLens[b], 1))
							}
							want[i] -= g * math.Exp(sub[i])
						}
						requireClose(t, want, got, tol, msg+" gradient")
					}
				}
			}
		}
	}
}

// logSoftmaxRows returns the log-softmax of each row of length n.
func logSoftmaxRows(x []float64, n int) []float64 {
	out := make([]float64, len(x))
	for i := 0; i < len(x); i += n {
		m := math.Inf(-1)
		for _, v := range x[i : i+n] {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range x[i : i+n] {
			s += math.Exp(v - m)
		}
		for j, v := range x[i : i+n] {
			out[i+j] = v - m - math.Log(s)
		}
	}
	return out
}

func TestCTCGreedyDecode(t *testing.T) {
	// frame argmaxes 0 1 1 0 1 2 2 0 with blank 0 give 1 1 2
	best := []int{0, 1, 1, 0, 1, 2, 2, 0}
	lp := make([]float32, len(best)*3)
	for i, c := range best {
		for k := range 3 {
			lp[i*3+k] = -5
		}
		lp[i*3+c] = -0.1
	}
	got, err := CTCGreedyDecode(lp, len(best), 3, 0)
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 2}, got)
	got, err = CTCGreedyDecode(lp, len(best), 3, 1) // blank 1
	require.NoError(t, err)
	require.Equal(t, []int{0, 0, 2, 0}, got)
	got, err = CTCGreedyDecode([]float64{}, 0, 3, 0)
	require.NoError(t, err)
	require.Empty(t, got)
	_, err = CTCGreedyDecode(lp, 7, 3, 0)
	require.Error(t, err)
}

// TestCTCBeamSearchExact: with a beam wider than the number of prefixes, the
// prefix beam search computes p(labels) exactly, as the sum over all paths.
func TestCTCBeamSearchExact(t *testing.T) {
	const T, C = 5, 3
	for _, blank := range []int{0, 2} {
		lp := make([]float64, T*C)
		graph.NormalFloat64s(graph.NewRNG(uint64(11+blank), "lp"), lp)
		lp = logSoftmaxRows(lp, C)
		// brute force: the probability of every labelling
		probs := map[string]float64{}
		labels := map[string][]int{}
		path := make([]int, T)
		for n := 0; n < int(math.Pow(C, T)); n++ {
			v, s := n, 0.0
			for tt := range T {
				path[tt] = v % C
				v /= C
				s += lp[tt*C+path[tt]]
			}
			y := collapse(path, blank)
			k := fmt.Sprint(y)
			probs[k] += math.Exp(s)
			labels[k] = y
		}
		hyps, err := CTCBeamSearch(lp, T, C, blank, 1000)
		require.NoError(t, err)
		require.Len(t, hyps, len(probs))
		for i, h := range hyps {
			want := math.Log(probs[fmt.Sprint(h.Labels)])
			require.InDelta(t, want, h.LogProb, 1e-12, "%v", h.Labels)
			nll, err := CTCNegLogLikelihood(lp, T, C, h.Labels, blank, nil, 0)
			require.NoError(t, err)
			require.InDelta(t, -nll, h.LogProb, 1e-12)
			if i > 0 {
				require.LessOrEqual(t, h.LogProb, hyps[i-1].LogProb)
			}
		}
		// a narrow beam keeps the best labelling here
		narrow, err := CTCBeamSearch(lp, T, C, blank, 4)
		require.NoError(t, err)
		require.Equal(t, hyps[0].Labels, narrow[0].Labels)
	}
}

// TestCTCBeamSearchBeatsGreedy: two frames of p(blank) = 0.6, p(a) = 0.4. The
// best path is blank blank (0.36), but the labelling "a" has 0.16 + 2 * 0.24 =
// 0.64.
func TestCTCBeamSearchBeatsGreedy(t *testing.T) {
	lp := []float64{math.Log(0.6), math.Log(0.4), math.Log(0.6), math.Log(0.4)}
	g, err := CTCGreedyDecode(lp, 2, 2, 0)
	require.NoError(t, err)
	require.Empty(t, g)
	hyps, err := CTCBeamSearch(lp, 2, 2, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []int{1}, hyps[0].Labels)
	require.InDelta(t, math.Log(0.64), hyps[0].LogProb, 1e-15)
	require.Equal(t, []int{}, hyps[1].Labels)
	require.InDelta(t, math.Log(0.36), hyps[1].LogProb, 1e-15)
	_, err = CTCBeamSearch(lp, 2, 2, 0, 0)
	require.Error(t, err)
}

func TestCTCDecodeBatch(t *testing.T) {
	// (T=3, B=2, C=3): example 0 argmaxes 1 1 2, example 1 argmaxes 2 0 2 (length 2)
	best := [][]int{{1, 2}, {1, 0}, {2, 2}}
	lp := tensor.New(tensor.WithShape(3, 2, 3), tensor.Of(tensor.Float32))
	d := lp.Data().([]float32)
	for tt, row := range best {
		for b, c := range row {
			for k := range 3 {
				d[(tt*2+b)*3+k] = -3
			}
			d[(tt*2+b)*3+c] = -0.2
		}
	}
	for _, beam := range []int{1, 4} {
		got, err := CTCDecodeBatch(lp, []int{3, 2}, 0, beam)
		require.NoError(t, err)
		require.Equal(t, [][]int{{1, 2}, {2}}, got, "beam %d", beam)
	}
	got, err := CTCDecodeBatch(lp, nil, 0, 1)
	require.NoError(t, err)
	require.Equal(t, [][]int{{1, 2}, {2, 2}}, got)
	_, err = CTCDecodeBatch(lp, []int{4, 2}, 0, 1)
	require.ErrorContains(t, err, "length 4")
	_, err = CTCDecodeBatch(lp, []int{3}, 0, 1)
	require.Error(t, err)
}
