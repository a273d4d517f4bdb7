package vae

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// ELBOProgram is a compiled ELBO graph for a fixed batch: input "x" (Batch,
// Input), scalar input "beta", random input "eps" (Batch, Latent); outputs "loss"
// (recon + beta kl), "recon" and "kl", batch means. A training program adds the
// gradients of "loss" into the parameters.
type ELBOProgram struct {
	*graph.Program
	Batch int
	x     *tensor.Dense
	beta  *tensor.Dense
}

// BuildELBO compiles the ELBO for a batch of the given size. noise draws eps
// before every run (nil: graph.StandardNormal, from the program's noise stream,
// which SetNoise sets); a training program (mode graph.Train) differentiates the
// loss.
func (m *VAE) BuildELBO(s *graph.Store, mode graph.Mode, batch int, noise graph.Sampler) (*ELBOProgram, error) {
	if batch <= 0 {
		return nil, errors.Errorf("vae: batch size %d", batch)
	}
	if noise == nil {
		noise = graph.StandardNormal
	}
	b := graph.NewBuilder(s, mode)
	x := b.Input("x", s.Dtype(), batch, m.Config.Input)
	beta := b.Input("beta", s.Dtype())
	eps := b.Random("eps", noise, batch, m.Config.Latent)
	t, _, _ := m.ELBO(b, x, eps, beta)
	b.Output("loss", t.Loss)
	b.Output("recon", t.Recon)
	b.Output("kl", t.KL)
	p, err := b.CompileLoss(t.Loss)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the ELBO")
	}
	return &ELBOProgram{Program: p, Batch: batch, x: graph.NewDense(s.Dtype(), batch, m.Config.Input), beta: graph.NewDense(s.Dtype())}, nil
}

// X returns the program's own input buffer (Batch, Input), which Feed sends;
// fill it in place to avoid a copy.
func (p *ELBOProgram) X() *tensor.Dense { return p.x }

// Feed sets the input to the program's buffer X (or, when x is not nil, to x)
// and the KL weight to beta.
func (p *ELBOProgram) Feed(x *tensor.Dense, beta float64) error {
	if x == nil {
		x = p.x
	}
	if err := p.Set("x", x); err != nil {
		return err
	}
	setScalar(p.beta, beta)
	return p.Set("beta", p.beta)
}

// Values returns the loss, reconstruction and KL terms of the last run.
func (p *ELBOProgram) Values() (loss, recon, kl float64) {
	get := func(name string) float64 {
		t, err := p.Output(name)
		if err != nil {
			return math.NaN()
		}
		return graph.Scalar(t)
	}
	return get("loss"), get("recon"), get("kl")
}

// setScalar sets the value of a 0-d float tensor.
func setScalar(t *tensor.Dense, v float64) {
	if t.Dtype() == tensor.Float32 {
		graph.Slice[float32](t)[0] = float32(v)
	} else {
		graph.Slice[float64](t)[0] = v
	}
}

// FillRows copies rows idx of the row-major float32 matrix data (rows of width
// cols) into dst (len(idx), cols) of dtype float32 or float64.
func FillRows(dst *tensor.Dense, data []float32, cols int, idx []int) error {
	if dst.Shape().TotalSize() != len(idx)*cols {
		return errors.Errorf("vae: %d rows of %d into a tensor of shape %v", len(idx), cols, dst.Shape())
	}
	for _, i := range idx {
		if i < 0 || (i+1)*cols > len(data) {
			return errors.Errorf("vae: row %d outside the %d rows of the data", i, len(data)/cols)
		}
	}
	switch dst.Dtype() {
	case tensor.Float32:
		d := graph.Slice[float32](dst)
		for r, i := range idx {
			copy(d[r*cols:(r+1)*cols], data[i*cols:(i+1)*cols])
		}
	case tensor.Float64:
		d := graph.Slice[float64](dst)
		for r, i := range idx {
			for j, v := range data[i*cols : (i+1)*cols] {
				d[r*cols+j] = float64(v)
			}
		}
	default:
		return errors.Errorf("vae: unsupported dtype %v", dst.Dtype())
	}
	return nil
}

// Reconstructor is a compiled forward-only graph mapping a batch x (input "x",
// (Batch, Input)) to the decoder's mean at z = mu ("mean"), with "mu" and
// "logvar".
type Reconstructor struct {
	*graph.Program
	Batch int
}

// BuildReconstruct compiles the reconstruction graph for the given batch size.
func (m *VAE) BuildReconstruct(s *graph.Store, batch int) (*Reconstructor, error) {
	b := graph.NewBuilder(s, graph.Eval)
	x := b.Input("x", s.Dtype(), batch, m.Config.Input)
	mu, logvar := m.Encode(b, x)
	b.Output("mu", mu)
	b.Output("logvar", logvar)
	b.Output("mean", m.Mean(b, m.Decode(b, mu)))
	p, err := b.Compile(nil)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the reconstruction")
	}
	return &Reconstructor{Program: p, Batch: batch}, nil
}

// Generator is a compiled forward-only decoder: input "z" (Batch, Latent),
// output "mean" (Batch, Input), the mean of p(x|z).
type Generator struct {
	*graph.Program
	Batch  int
	latent int
	z      *tensor.Dense
}

// BuildDecode compiles the decoder for the given batch of latent points.
func (m *VAE) BuildDecode(s *graph.Store, batch int) (*Generator, error) {
	b := graph.NewBuilder(s, graph.Eval)
	z := b.Input("z", s.Dtype(), batch, m.Config.Latent)
	b.Output("mean", m.Mean(b, m.Decode(b, z)))
	p, err := b.Compile(nil)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the decoder")
	}
	return &Generator{Program: p, Batch: batch, latent: m.Config.Latent, z: graph.NewDense(s.Dtype(), batch, m.Config.Latent)}, nil
}

// Generate returns the decoder's means (Batch*Input values) at the latent
// points z (Batch*Latent values, row-major).
func (g *Generator) Generate(z []float64) ([]float64, error) {
	if len(z) != g.Batch*g.latent {
		return nil, errors.Errorf("vae: %d latent values for a decoder of %d x %d", len(z), g.Batch, g.latent)
	}
	g.z = graph.FromFloat64s(g.z.Dtype(), z, g.Batch, g.latent)
	if err := g.Set("z", g.z); err != nil {
		return nil, err
	}
	if err := g.Run(); err != nil {
		return nil, err
	}
	out, err := g.Output("mean")
	if err != nil {
		return nil, err
	}
	return graph.Float64s(out), nil
}
