package classify

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
)

// weightedLoss returns sum(n * r) for a fixed random r, a loss whose gradient
// reaches every element of n (the pattern of graph/layers_test.go).
func weightedLoss(b *graph.Builder, s *graph.Store, n *G.Node) *G.Node {
	r := s.Must(b.UniqueName("r"), n.Shape(), graph.Normal(0, 1))
	return b.Check(G.Sum(b.Check(G.HadamardProd(n, b.Param(r)))))
}

// padMask is the additive (B, T) mask of the given lengths.
func padMask(lengths []int, t int) *tensor.Dense {
	v := make([]float64, len(lengths)*t)
	for i, l := range lengths {
		for j := l; j < t; j++ {
			v[i*t+j] = -1e9
		}
	}
	return graph.FromFloat64s(tensor.Float64, v, len(lengths), t)
}

func TestWeightedSumGradient(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	b := graph.NewBuilder(s, graph.Train)
	w := b.Param(s.Must("w", []int{2, 3}, graph.Normal(0, 1)))
	x := b.Param(s.Must("x", []int{2, 3, 4}, graph.Normal(0, 1)))
	y := WeightedSum(b, w, x)
	require.NoError(t, b.Err())
	require.Equal(t, tensor.Shape{2, 4}, y.Shape())
	p, err := b.Compile(weightedLoss(b, s, y))
	require.NoError(t, err)
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
}

func TestWeightedSumValues(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	b := graph.NewBuilder(s, graph.Eval)
	w := b.Input("w", tensor.Float64, 1, 2)
	x := b.Input("x", tensor.Float64, 1, 2, 2)
	b.Output("y", WeightedSum(b, w, x))
	p, err := b.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p.Set("w", graph.FromFloat64s(tensor.Float64, []float64{0.25, 0.75}, 1, 2)))
	require.NoError(t, p.Set("x", graph.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4}, 1, 2, 2)))
	require.NoError(t, p.Run())
	y, err := p.Output("y")
	require.NoError(t, err)
	// 0.25*(1,2) + 0.75*(3,4)
	require.Equal(t, []float64{2.5, 3.5}, graph.Float64s(y))
}

// TestSelfAttentivePoolGradient checks the pooling's gradients with respect to the
// states and both weight matrices, with padded rows, through the pooled vectors
// and the weights.
func TestSelfAttentivePoolGradient(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(2, "init"))
	pool, err := NewSelfAttentivePool(s, "pool", 3, 4)
	require.NoError(t, err)
	b := graph.NewBuilder(s, graph.Train)
	h := b.Param(s.Must("h", []int{3, 4, 3}, graph.Normal(0, 1)))
	mask := b.Input("mask", tensor.Float64, 3, 4)
	pooled, weights := pool.Forward(b, h, mask)
	require.NoError(t, b.Err())
	loss := b.Check(G.Add(weightedLoss(b, s, pooled), weightedLoss(b, s, weights)))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("mask", padMask([]int{4, 2, 1}, 4)))
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
}

// TestSelfAttentivePoolPadding checks that a padded position gets exactly zero
// weight, that each row's weights sum to one, and that padding a sentence
// further changes neither its weights nor its pooled vector.
func TestSelfAttentivePoolPadding(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(3, "init"))
	pool, err := NewSelfAttentivePool(s, "pool", 3, 4)
	require.NoError(t, err)
	run := func(T int, lengths []int, h []float64) (pooled, weights []float64) {
		b := graph.NewBuilder(s, graph.Eval)
		hn := b.Input("h", tensor.Float64, len(lengths), T, 3)
		mask := b.Input("mask", tensor.Float64, len(lengths), T)
		pn, wn := pool.Forward(b, hn, mask)
		b.Output("pooled", pn)
		b.Output("weights", wn)
		p, err := b.Compile(nil)
		require.NoError(t, err)
		require.NoError(t, p.Set("h", graph.FromFloat64s(tensor.Float64, h, len(lengths), T, 3)))
		require.NoError(t, p.Set("mask", padMask(lengths, T)))
		require.NoError(t, p.Run())
		po, err := p.Output("pooled")
		require.NoError(t, err)
		wo, err := p.Output("weights")
		require.NoError(t, err)
		return graph.Float64s(po), graph.Float64s(wo)
	}
	rng := graph.NewRNG(4, "h")
	short := make([]float64, 2*3)
	for i := range short {
		short[i] = rng.NormFloat64()
	}
	// the same two real states, then three padded ones holding large values
	long := append(append([]float64(nil), short...), 50, -50, 50, 9, 9, 9, -7, 7, 100)
	p2, w2 := run(2, []int{2}, short)
	p5, w5 := run(5, []int{2}, long)
	for t2 := 2; t2 < 5; t2++ {
		require.Equal(t, 0.0, w5[t2], "padded position %d", t2)
	}
	require.InDelta(t, 1, w5[0]+w5[1], 1e-15)
	require.InDelta(t, w2[0], w5[0], 1e-15)
	require.InDelta(t, w2[1], w5[1], 1e-15)
	for i := range p2 {
		require.InDelta(t, p2[i], p5[i], 1e-15)
	}
}

func tinyConfig(enc Encoder) Config {
	return Config{Encoder: enc, Vocab: 9, Classes: 3, Embed: 4, Hidden: 3, AttnDim: 5, Heads: 2, FF: 6,
		Dropout: 0.3, Tokens: decode.Tokens{Pad: 0, Unk: 1, BOS: 2}}
}

var (
	tinySeqs   = [][]int{{4, 5, 6, 7}, {8, 4}, {5}}
	tinyLabels = []int{2, 0, 1}
)

// TestClassifierGradients checks every parameter's gradient of the whole
// classifier (embedding, encoder, pooling, output layer, cross-entropy) on a
// padded batch with dropout on.
func TestClassifierGradients(t *testing.T) {
	cases := map[string]func(*Config){
		"bilstm-attn":       func(*Config) {},
		"bigru-attn":        func(c *Config) { c.Cell = rnn.GRU },
		"transformer-mean":  func(c *Config) { c.Encoder = Transformer },
		"transformer-first": func(c *Config) { c.Encoder, c.Pool = Transformer, PoolFirst },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := tinyConfig(BiLSTMAttn)
			edit(&cfg)
			s := graph.NewStore(tensor.Float64, graph.NewRNG(5, "init"))
			m, err := New(s, cfg)
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 4, 5) // a fourth, empty row
			require.NoError(t, err)
			_, err = p.Feed(tinySeqs, tinyLabels)
			require.NoError(t, err)
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 6, MaxPerParam: 40}))
		})
	}
}

// TestPaddingInvariance checks that an evaluation program gives the same logits
// for the same sentences at two padded lengths, and zero weight to padding.
func TestPaddingInvariance(t *testing.T) {
	for _, enc := range []Encoder{BiLSTMAttn, Transformer} {
		for _, pool := range []Pool{PoolMean, PoolFirst} {
			if enc == BiLSTMAttn && pool == PoolFirst {
				continue
			}
			t.Run(string(enc)+"-"+string(pool), func(t *testing.T) {
				cfg := tinyConfig(enc)
				cfg.Pool = pool
				s := graph.NewStore(tensor.Float64, graph.NewRNG(7, "init"))
				m, err := New(s, cfg)
				require.NoError(t, err)
				logits := map[int][][]float64{}
				for _, T := range []int{5, 9} {
					p, err := m.Build(s, graph.Eval, 3, T)
					require.NoError(t, err)
					lengths, err := p.Feed(tinySeqs, nil)
					require.NoError(t, err)
					require.NoError(t, p.Run())
					logits[T], err = p.Logits()
					require.NoError(t, err)
					w, err := p.Weights()
					require.NoError(t, err)
					for i, l := range lengths {
						var sum float64
						for j, v := range w[i] {
							if j >= l {
								require.Equal(t, 0.0, v, "row %d position %d", i, j)
							}
							sum += v
						}
						require.InDelta(t, 1, sum, 1e-12)
					}
				}
				for i := range logits[5] {
					for j := range logits[5][i] {
						require.InDelta(t, logits[5][i][j], logits[9][i][j], 1e-12)
					}
				}
			})
		}
	}
}

func TestFeedErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, tinyConfig(BiLSTMAttn))
	require.NoError(t, err)
	p, err := m.Build(s, graph.Eval, 2, 3)
	require.NoError(t, err)
	_, err = p.Feed(tinySeqs, nil)
	require.ErrorContains(t, err, "3 sentences for a batch of 2")
	_, err = p.Feed(tinySeqs[:2], []int{0, 3})
	require.ErrorContains(t, err, "label 3")
	_, err = p.Feed([][]int{{1, 99}}, nil)
	require.ErrorContains(t, err, "token id 99")
	lengths, err := p.Feed([][]int{{4, 5, 6, 7}, {}}, []int{0, 1})
	require.NoError(t, err)
	require.Equal(t, []int{3, 1}, lengths, "cut to the length; an empty sentence is one unknown token")
}

func TestConfigErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	for name, edit := range map[string]func(*Config){
		"encoder": func(c *Config) { c.Encoder = "cnn" },
		"cell":    func(c *Config) { c.Cell = rnn.Tanh },
		"heads":   func(c *Config) { c.Encoder, c.Heads = Transformer, 3 },
		"pool":    func(c *Config) { c.Encoder, c.Pool = Transformer, "max" },
		"dropout": func(c *Config) { c.Dropout = 1 },
		"classes": func(c *Config) { c.Classes = 1 },
		"bos":     func(c *Config) { c.BOS = 9 },
	} {
		cfg := tinyConfig(BiLSTMAttn)
		edit(&cfg)
		_, err := New(s, cfg)
		require.Error(t, err, name)
	}
}

func TestSoftmax(t *testing.T) {
	p := Softmax([]float64{1000, 1000 + math.Log(3)})
	require.InDelta(t, 0.25, p[0], 1e-12)
	require.InDelta(t, 0.75, p[1], 1e-12)
}

// BenchmarkTrainStep times one training step (forward, backward, Adam) on a batch
// of 50 sentences padded to 24 words, with a vocabulary of 10,000 words: the
// default bilstm-attn configuration of `triad classify` and smaller ones.
func BenchmarkTrainStep(b *testing.B) {
	for name, cfg := range map[string]Config{
		"bilstm-e300-h150": {Encoder: BiLSTMAttn, Embed: 300, Hidden: 150, AttnDim: 100},
		"bilstm-e128-h100": {Encoder: BiLSTMAttn, Embed: 128, Hidden: 100, AttnDim: 64},
		"bigru-e128-h100":  {Encoder: BiLSTMAttn, Cell: rnn.GRU, Embed: 128, Hidden: 100, AttnDim: 64},
		"transformer-d128": {Encoder: Transformer, Embed: 128, Heads: 4, FF: 256},
	} {
		b.Run(name, func(b *testing.B) {
			cfg.Vocab, cfg.Classes, cfg.Dropout, cfg.Unk, cfg.BOS = 10000, 2, 0.5, 1, 2
			benchTrainStep(b, cfg)
		})
	}
}

func benchTrainStep(b *testing.B, cfg Config) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, cfg)
	require.NoError(b, err)
	p, err := m.Build(s, graph.Train, 50, 24)
	require.NoError(b, err)
	rng := graph.NewRNG(2, "data")
	seqs := make([][]int, 50)
	labels := make([]int, 50)
	for i := range seqs {
		for j := 0; j < 10+rng.IntN(14); j++ {
			seqs[i] = append(seqs[i], 4+rng.IntN(9996))
		}
		labels[i] = rng.IntN(2)
	}
	_, err = p.Feed(seqs, labels)
	require.NoError(b, err)
	p.SetNoise(graph.NewRNG(3, "noise"))
	adam, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, p.Run())
		require.NoError(b, adam.Step(s.Params()))
	}
}
