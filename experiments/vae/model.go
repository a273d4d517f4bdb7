package vae

import (
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/train"
)

// Model is a trained VAE ready for inference: it encodes, reconstructs, decodes
// and samples batches of images, compiling one program per batch size at first
// use. Images are rows of pixel intensities (the decoder's means: in [0, 1] for
// the Bernoulli decoder). It is not safe for concurrent use.
type Model struct {
	// VAE is the model (its Config gives the image and latent sizes).
	VAE   *vaemodel.VAE
	store *graph.Store
	enc   *graph.Programs[int, *vaemodel.Reconstructor]
	dec   *graph.Programs[int, *vaemodel.Generator]
}

// NewModel returns the inference side of a VAE whose parameters live in store,
// such as one trained in this process; it follows later updates of the weights.
func NewModel(store *graph.Store, m *vaemodel.VAE) *Model {
	return &Model{VAE: m, store: store,
		enc: graph.NewPrograms(func(n int) (*vaemodel.Reconstructor, error) { return m.BuildReconstruct(store, n) }),
		dec: graph.NewPrograms(func(n int) (*vaemodel.Generator, error) { return m.BuildDecode(store, n) }),
	}
}

// Load reads the run in dir: its config.json and its best checkpoint (the last
// one when there is no best).
func Load(dir string) (*Model, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, errors.Wrapf(err, "vae: run %s", dir)
	}
	mc, err := cfg.modelConfig(0)
	if err != nil {
		return nil, err
	}
	// config.json does not record the image size: the output layer's bias has
	// one value per pixel.
	_, _, _, _, out := vaemodel.LayerNames(len(mc.Hidden))
	if mc.Input, err = checkpointSize(dir, out+".bias"); err != nil {
		return nil, err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	if err := train.ExpectParams(dir, store); err != nil {
		return nil, err
	}
	m, err := vaemodel.New(store, mc)
	if err != nil {
		return nil, err
	}
	if _, err := train.LoadParams(dir, store); err != nil {
		return nil, err
	}
	return NewModel(store, m), nil
}

// checkpointSize returns the length of the 1-D parameter name in the run's best
// checkpoint, or else its last.
func checkpointSize(dir, name string) (int, error) {
	var first error
	for _, file := range []string{"best.safetensors", "last.safetensors"} {
		infos, _, err := graph.ReadHeader(filepath.Join(dir, "checkpoints", file))
		if err != nil {
			first = firstErr(first, err)
			continue
		}
		for _, key := range []string{name, "param/" + name} {
			if t, ok := infos[key]; ok && len(t.Shape) == 1 {
				return t.Shape[0], nil
			}
		}
		first = firstErr(first, errors.Errorf("vae: %s has no parameter %s", file, name))
	}
	return 0, errors.Wrapf(first, "vae: run %s", dir)
}

// firstErr keeps the first error.
func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// Encode returns the means of q(z|x), the codes, of images.
func (m *Model) Encode(images [][]float32) ([][]float32, error) {
	mu, _, err := m.encodeRows(images)
	return mu, err
}

// Reconstruct returns the decoder's means at the codes of images.
func (m *Model) Reconstruct(images [][]float32) ([][]float32, error) {
	_, mean, err := m.encodeRows(images)
	return mean, err
}

// encodeRows is encode over rows of images.
func (m *Model) encodeRows(images [][]float32) (mu, mean [][]float32, err error) {
	x, err := flatten(images, m.VAE.Config.Input, "image")
	if err != nil {
		return nil, nil, err
	}
	mu64, mean64, err := m.encode(x, len(images))
	if err != nil {
		return nil, nil, err
	}
	return rows(mu64, len(images)), rows(mean64, len(images)), nil
}

// Decode returns the decoder's means at the latent points z.
func (m *Model) Decode(z [][]float32) ([][]float32, error) {
	flat, err := flatten(z, m.VAE.Config.Latent, "latent point")
	if err != nil {
		return nil, err
	}
	z64 := make([]float64, len(flat))
	for i, v := range flat {
		z64[i] = float64(v)
	}
	mean, err := m.decode(z64, len(z))
	return rows(mean, len(z)), err
}

// Sample decodes n points drawn from the prior N(0, I) with the given seed.
// With a run's seed and n 64 they are the points of its samples figures.
func (m *Model) Sample(n int, seed uint64) ([][]float32, error) {
	if n <= 0 {
		return nil, errors.Errorf("vae: %d samples", n)
	}
	mean, err := m.decode(priorLatents(seed, n, m.VAE.Config.Latent), n)
	return rows(mean, n), err
}

// Close frees the compiled programs.
func (m *Model) Close() error {
	err := m.enc.Reset()
	return firstErr(err, m.dec.Reset())
}

// priorLatents draws n points of the prior from the stream the figures use.
func priorLatents(seed uint64, n, latent int) []float64 {
	z := make([]float64, n*latent)
	graph.NormalFloat64s(graph.NewRNG(seed, "vae/prior"), z)
	return z
}

// encode runs the encoder and the decoder over n images x, one after the other,
// and returns the codes' means and the decoder's means there.
func (m *Model) encode(x []float32, n int) (mu, mean []float64, err error) {
	p, err := m.enc.Get(n)
	if err != nil {
		return nil, nil, err
	}
	d := m.VAE.Config.Input
	in := graph.NewDense(m.store.Dtype(), n, d)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if err := vaemodel.FillRows(in, x, d, idx); err != nil {
		return nil, nil, err
	}
	if err := p.Set("x", in); err != nil {
		return nil, nil, err
	}
	if err := p.Run(); err != nil {
		return nil, nil, err
	}
	muT, err := p.Output("mu")
	if err != nil {
		return nil, nil, err
	}
	meanT, err := p.Output("mean")
	if err != nil {
		return nil, nil, err
	}
	return graph.Float64s(muT), graph.Float64s(meanT), nil
}

// decode returns the decoder's means at the n latent points z, one after the
// other.
func (m *Model) decode(z []float64, n int) ([]float64, error) {
	g, err := m.dec.Get(n)
	if err != nil {
		return nil, err
	}
	return g.Generate(z)
}

// flatten joins rows of width values each.
func flatten(rows [][]float32, width int, what string) ([]float32, error) {
	if len(rows) == 0 {
		return nil, errors.Errorf("vae: no %ss", what)
	}
	out := make([]float32, 0, len(rows)*width)
	for i, r := range rows {
		if len(r) != width {
			return nil, errors.Errorf("vae: %s %d has %d values, not %d", what, i, len(r), width)
		}
		out = append(out, r...)
	}
	return out, nil
}

// rows splits v into n rows of float32 (nil for nil).
func rows(v []float64, n int) [][]float32 {
	if v == nil {
		return nil
	}
	w := len(v) / n
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, w)
		for j := range out[i] {
			out[i][j] = float32(v[i*w+j])
		}
	}
	return out
}
