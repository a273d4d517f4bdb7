package pointer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// A small mixture: B=2 sequences, T=3 steps, V=5 vocabulary words, S=4 source
// positions. Extended ids 5 and 6 are out-of-vocabulary source words; id 5 occurs
// twice in the first source, whose last position is padding (masked, weight 0).
const mixB, mixT, mixV, mixS = 2, 3, 5, 4

var (
	mixSrc = []int{
		5, 2, 5, 0, // padding at the end
		3, 6, 1, 4,
	}
	// targets: 5 (copy only, two positions), 2 (both terms), 4 (vocabulary only);
	// 6 (copy only), 3 (both), 0 (vocabulary only)
	mixTgt  = []int{5, 2, 4, 6, 3, 0}
	mixKeep = []float64{1, 1, 0, 1, 1, 1} // the first sequence's last position is masked
)

// weightedSum returns sum(y * r) for fixed normal r: every output element
// reaches the loss with its own weight.
func weightedSum(t *testing.T, b *graph.Builder, y *G.Node, seed uint64) (*G.Node, *tensor.Dense) {
	t.Helper()
	require.NoError(t, b.Err())
	r := b.Input("r", tensor.Float64, y.Shape()...)
	v := make([]float64, y.Shape().TotalSize())
	graph.NormalFloat64s(graph.NewRNG(seed, "weights"), v)
	return b.Check(G.Sum(b.Check(G.HadamardProd(y, r)))), graph.FromFloat64s(tensor.Float64, v, y.Shape()...)
}

func newStore(seed uint64) *graph.Store {
	return graph.NewStore(tensor.Float64, graph.NewRNG(seed, "init"))
}

// mixtureGraph builds the mixture over parameters (logits, attention scores, z)
// with a masked softmax for the attention weights.
func mixtureGraph(t *testing.T, s *graph.Store, mode graph.Mode) (*graph.Builder, *G.Node) {
	t.Helper()
	lg := s.Must("logits", []int{mixB, mixT, mixV}, graph.Normal(0, 2))
	sc := s.Must("scores", []int{mixB, mixT, mixS}, graph.Normal(0, 1))
	z := s.Must("z", []int{mixB, mixT, 1}, graph.Normal(0, 1.5))
	b := graph.NewBuilder(s, mode)
	mask := b.Input("mask", tensor.Float64, mixB, mixT, mixS)
	attn := b.Check(graph.SoftMax(b.Param(sc), 2, mask))
	src := b.Input("src", tensor.Int, mixB, mixS)
	tgt := b.Input("tgt", tensor.Int, mixB, mixT)
	b.Output("attn", attn)
	nll := b.Check(Mixture(b.Param(lg), attn, b.Param(z), src, tgt))
	require.NoError(t, b.Err())
	require.Equal(t, tensor.Shape{mixB, mixT}, nll.Shape())
	return b, nll
}

// mixtureEval compiles the evaluation graph of mixtureGraph with the output "nll".
func mixtureEval(t *testing.T, s *graph.Store) *graph.Program {
	t.Helper()
	b, nll := mixtureGraph(t, s, graph.Eval)
	b.Output("nll", nll)
	p, err := b.Compile(nil)
	require.NoError(t, err)
	return p
}

func mixInputs() map[string]*tensor.Dense {
	mask := make([]float64, mixB*mixT*mixS)
	for bt := 0; bt < mixT; bt++ {
		mask[bt*mixS+3] = -1e9 // the first source's padding
	}
	return map[string]*tensor.Dense{
		"mask": graph.FromFloat64s(tensor.Float64, mask, mixB, mixT, mixS),
		"src":  graph.FromInts(mixSrc, mixB, mixS),
		"tgt":  graph.FromInts(mixTgt, mixB, mixT),
	}
}

func setAll(t *testing.T, p *graph.Program, in map[string]*tensor.Dense) {
	t.Helper()
	for k, v := range in {
		require.NoError(t, p.Set(k, v))
	}
}

func TestMixtureGradients(t *testing.T) {
	s := newStore(1)
	b, nll := mixtureGraph(t, s, graph.Train)
	loss, r := weightedSum(t, b, nll, 2)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	setAll(t, p, mixInputs())
	require.NoError(t, p.Set("r", r))
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
}

// The masked mean over target tokens, as the model's loss takes it: a masked
// token gets no gradient.
func TestMixtureMaskedMeanGradients(t *testing.T) {
	s := newStore(3)
	b, nll := mixtureGraph(t, s, graph.Train)
	keep := b.Input("keep", tensor.Float64, mixB, mixT)
	loss := b.Check(G.Div(b.Check(G.Sum(b.Check(G.HadamardProd(nll, keep)))), b.Check(G.Sum(keep))))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	in := mixInputs()
	in["keep"] = graph.FromFloat64s(tensor.Float64, mixKeep, mixB, mixT)
	setAll(t, p, in)
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
}

// The kernel's output is -log of the explicitly built extended distribution,
// which sums to 1; MixLogProbs builds the same distribution for decoding.
func TestMixtureMatchesExplicitDistribution(t *testing.T) {
	s := newStore(5)
	p := mixtureEval(t, s)
	setAll(t, p, mixInputs())
	require.NoError(t, p.Run())
	out, _ := p.Output("nll")
	got := graph.Float64s(out)
	at, _ := p.Output("attn")
	attn := graph.Float64s(at)
	lgP, _ := s.Get("logits")
	zP, _ := s.Get("z")
	logits, zs := graph.Float64s(lgP.Value), graph.Float64s(zP.Value)
	const width = 7 // V + the two out-of-vocabulary words
	for r := 0; r < mixB*mixT; r++ {
		bi := r / mixT
		row := logits[r*mixV : (r+1)*mixV]
		var sum float64
		for _, v := range row {
			sum += math.Exp(v)
		}
		pg := 1 / (1 + math.Exp(-zs[r]))
		dist := make([]float64, width)
		for w, v := range row {
			dist[w] = pg * math.Exp(v) / sum
		}
		src := mixSrc[bi*mixS : (bi+1)*mixS]
		for i, id := range src {
			dist[id] += (1 - pg) * attn[r*mixS+i]
		}
		total := 0.0
		for _, d := range dist {
			total += d
		}
		require.InDelta(t, 1, total, 1e-12, "row %d", r)
		require.InDelta(t, -math.Log(dist[mixTgt[r]]), got[r], 1e-12, "row %d", r)
		logpv := make([]float64, mixV)
		for w, v := range row {
			logpv[w] = v - math.Log(sum)
		}
		mixed := MixLogProbs(logpv, attn[r*mixS:(r+1)*mixS], src, zs[r], width)
		for w := range dist {
			require.InDelta(t, math.Log(dist[w]), mixed[w], 1e-12, "row %d word %d", r, w)
		}
	}
	// a row whose source lacks an extended id gives it -Inf
	mixed := MixLogProbs([]float64{math.Log(0.5), math.Log(0.5)}, []float64{1}, []int{1}, 0, 4)
	require.Equal(t, []float64{math.Log(0.25), math.Log(0.75), math.Inf(-1), math.Inf(-1)}, mixed)
}

func TestMixtureRejectsImpossibleTarget(t *testing.T) {
	s := newStore(1)
	p := mixtureEval(t, s)
	in := mixInputs()
	bad := append([]int(nil), mixTgt...)
	bad[0] = 6 // id 6 is the second source's, not the first's
	in["tgt"] = graph.FromInts(bad, mixB, mixT)
	setAll(t, p, in)
	require.ErrorContains(t, p.Run(), "probability 0")

	b := graph.NewBuilder(s, graph.Eval)
	_, err := Mixture(b.Param(s.Must("x", []int{2, 3, 5}, nil)), nil, nil, nil, nil)
	require.ErrorContains(t, err, "nil")
}

// With p_gen -> 1 the mixture is the softmax cross-entropy.
func TestMixtureWithoutCopyIsCrossEntropy(t *testing.T) {
	s := newStore(7)
	b, nll := mixtureGraph(t, s, graph.Eval)
	zP, _ := s.Get("z")
	for i := range graph.Slice[float64](zP.Value) {
		graph.Slice[float64](zP.Value)[i] = 60 // 1 - p_gen ~ 1e-26
	}
	lgP, _ := s.Get("logits")
	tgtIn := b.Input("vocab_tgt", tensor.Int, mixB, mixT)
	ce := b.Check(graph.SoftmaxCrossEntropy(b.Param(lgP), tgtIn, graph.CEOptions{}))
	b.Output("nll", nll)
	b.Output("ce", ce)
	p, err := b.Compile(nil)
	require.NoError(t, err)
	in := mixInputs()
	vocabTgt := []int{1, 2, 4, 3, 3, 0}
	in["tgt"] = graph.FromInts(vocabTgt, mixB, mixT)
	in["vocab_tgt"] = graph.FromInts(vocabTgt, mixB, mixT)
	setAll(t, p, in)
	require.NoError(t, p.Run())
	a, _ := p.Output("nll")
	c, _ := p.Output("ce")
	require.InDeltaSlice(t, graph.Float64s(c), graph.Float64s(a), 1e-12)
}
