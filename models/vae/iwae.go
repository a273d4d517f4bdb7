package vae

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// IWAEProgram is a compiled forward-only graph of importance log-weights: input
// "x" (Batch, Input), random input "eps" (Samples*Batch, Latent) drawn from the
// program's noise stream, output "logw" (Samples*Batch), row s*Batch + b holding
// log p(x_b, z) - log q(z|x_b) for the s-th sample z of example b.
type IWAEProgram struct {
	*graph.Program
	Batch, Samples int
	x              *tensor.Dense
}

// BuildIWAE compiles the log-weight graph for batch examples and samples
// samples of z per example.
func (m *VAE) BuildIWAE(s *graph.Store, batch, samples int) (*IWAEProgram, error) {
	if batch <= 0 || samples <= 0 {
		return nil, errors.Errorf("vae: importance weights for batch %d x samples %d", batch, samples)
	}
	b := graph.NewBuilder(s, graph.Eval)
	x := b.Input("x", s.Dtype(), batch, m.Config.Input)
	eps := b.Random("eps", graph.StandardNormal, samples*batch, m.Config.Latent)
	mu, logvar := m.Encode(b, x)
	if b.Err() != nil {
		return nil, b.Err()
	}
	z := b.Check(Reparameterize(mu, logvar, eps))
	nll := m.NLL(b, m.Decode(b, z), x)
	ratio := b.Check(graph.Apply(logRatioKernel{}, z, eps, logvar))
	if b.Err() != nil {
		return nil, b.Err()
	}
	b.Output("logw", b.Check(G.Sub(ratio, nll)))
	p, err := b.Compile(nil)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the importance weights")
	}
	return &IWAEProgram{Program: p, Batch: batch, Samples: samples, x: graph.NewDense(s.Dtype(), batch, m.Config.Input)}, nil
}

// IWAEEstimate is an importance-weighted estimate of the log-likelihood of a set
// of examples.
type IWAEEstimate struct {
	// K is the number of importance samples per example.
	K int `json:"k"`
	// Examples is the number of examples estimated.
	Examples int `json:"examples"`
	// NLL is the mean over the examples of -L_k, in nats: an estimate of the
	// negative log-likelihood that is too high on average and tightens as K grows.
	NLL float64 `json:"nll"`
	// StdErr is the standard error of NLL across the examples.
	StdErr float64 `json:"stderr"`
	// LogP holds L_k of each example.
	LogP []float64 `json:"-"`
}

// IWAEOptions tunes ImportanceWeighted. The zero value gives the defaults.
type IWAEOptions struct {
	// MaxRows bounds the decoder rows (samples x examples) of one run (default
	// 10000), trading memory for fewer runs.
	MaxRows int
}

// ImportanceWeighted returns the importance-weighted bound L_k (Burda et al.
// 2016) of each of the examples in data (row-major, Input values per example),
// with k samples of z per example drawn from noise, and their mean as a negative
// log-likelihood. The log-mean-exp over the samples is accumulated in float64,
// stably, across as many runs as k needs.
func (m *VAE) ImportanceWeighted(s *graph.Store, data []float32, k int, noise *rand.Rand, opt IWAEOptions) (*IWAEEstimate, error) {
	d := m.Config.Input
	if k <= 0 {
		return nil, errors.Errorf("vae: %d importance samples", k)
	}
	if len(data) == 0 || len(data)%d != 0 {
		return nil, errors.Errorf("vae: %d values are not whole examples of %d", len(data), d)
	}
	n := len(data) / d
	if opt.MaxRows <= 0 {
		opt.MaxRows = 10000
	}
	samples := 1 // the largest divisor of k that fits a run
	for c := min(k, opt.MaxRows); c >= 1; c-- {
		if k%c == 0 {
			samples = c
			break
		}
	}
	batch := max(1, min(n, opt.MaxRows/samples))
	progs := map[int]*IWAEProgram{}
	defer func() {
		for _, p := range progs {
			p.Close()
		}
	}()
	est := &IWAEEstimate{K: k, Examples: n, LogP: make([]float64, n)}
	idx := make([]int, 0, batch)
	for start := 0; start < n; start += batch {
		bs := min(batch, n-start)
		p, ok := progs[bs]
		if !ok {
			var err error
			if p, err = m.BuildIWAE(s, bs, samples); err != nil {
				return nil, err
			}
			progs[bs] = p
		}
		idx = idx[:0]
		for i := start; i < start+bs; i++ {
			idx = append(idx, i)
		}
		if err := FillRows(p.x, data, d, idx); err != nil {
			return nil, err
		}
		if err := p.Set("x", p.x); err != nil {
			return nil, err
		}
		p.SetNoise(noise)
		hi := make([]float64, bs) // running maximum of the log-weights
		sum := make([]float64, bs)
		for i := range hi {
			hi[i] = math.Inf(-1)
		}
		for run := 0; run < k/samples; run++ {
			if err := p.Run(); err != nil {
				return nil, err
			}
			out, err := p.Output("logw")
			if err != nil {
				return nil, err
			}
			for r, w := range graph.Float64s(out) {
				b := r % bs
				switch {
				case math.IsNaN(w):
					return nil, errors.Errorf("vae: log-weight of example %d is NaN", start+b)
				case math.IsInf(w, -1): // a zero weight adds nothing
				case w > hi[b]:
					sum[b] = sum[b]*math.Exp(hi[b]-w) + 1
					hi[b] = w
				default:
					sum[b] += math.Exp(w - hi[b])
				}
			}
		}
		for b := range bs {
			est.LogP[start+b] = hi[b] + math.Log(sum[b]) - math.Log(float64(k))
		}
	}
	var mean, sq float64
	for _, v := range est.LogP {
		mean += v
	}
	mean /= float64(n)
	for _, v := range est.LogP {
		sq += (v - mean) * (v - mean)
	}
	est.NLL = -mean
	if n > 1 {
		est.StdErr = math.Sqrt(sq / float64(n-1) / float64(n))
	}
	return est, nil
}
