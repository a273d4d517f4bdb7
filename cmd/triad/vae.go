package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("vae", "variational autoencoder on MNIST (PyTorch examples/vae defaults), beta-VAE, IWAE log-likelihood", vaeMain)
}

// vaeConfig holds the hyperparameters of `triad vae`. The defaults are those of
// PyTorch's examples/vae/main.py: 784-400-20, ReLU, Bernoulli decoder on pixel
// intensities in [0, 1], Adam 1e-3, batch 128, 10 epochs, seed 1.
type vaeConfig struct {
	train.Common
	Hidden         string  `json:"hidden" help:"encoder hidden layer sizes, comma-separated (the decoder mirrors them; empty: linear)"`
	Latent         int     `json:"latent" help:"latent size (2 also draws the learnt manifold)"`
	Activation     string  `json:"activation" help:"hidden activation: relu, tanh, sigmoid, gelu, leaky_relu, softplus"`
	Likelihood     string  `json:"likelihood" help:"decoder distribution: bernoulli (logits) or gaussian (means)"`
	Sigma          float64 `json:"sigma" help:"gaussian decoder: standard deviation, fixed or initial with --learn-sigma"`
	LearnSigma     bool    `json:"learn_sigma" help:"gaussian decoder: learn a per-pixel log-variance"`
	Beta           float64 `json:"beta" help:"weight of the KL term (1: the ELBO; beta-VAE otherwise)"`
	Warmup         int     `json:"warmup_steps" help:"linear KL warm-up: beta_t = beta min(1, step/warmup_steps) (0: off)"`
	Batch          int     `json:"batch" help:"images per training and evaluation batch"`
	LR             float64 `json:"lr" help:"Adam learning rate"`
	IWAEK          string  `json:"iwae_k" help:"importance samples of the final log-likelihood estimates, comma-separated (empty: none)"`
	IWAEMaxSamples int     `json:"iwae_max_samples" help:"decoder samples per estimate: k uses min(test set, this/k) test images, evenly spaced (0: the whole test set)"`
}

func defaultVAEConfig() vaeConfig {
	return vaeConfig{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Hidden: "400", Latent: 20, Activation: "relu", Likelihood: "bernoulli", Sigma: 1, Beta: 1,
		Batch: 128, LR: 1e-3, IWAEK: "1,100,1000", IWAEMaxSamples: 1000000,
	}
}

// parseInts reads a comma-separated list of positive integers ("" is empty).
func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, errors.Errorf("%s: %q is not a positive integer", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// modelConfig turns the flags into the model's config for images of size input.
func (c vaeConfig) modelConfig(input int) (vae.Config, error) {
	hidden, err := parseInts("hidden", c.Hidden)
	if err != nil {
		return vae.Config{}, err
	}
	return vae.Config{Input: input, Hidden: hidden, Latent: c.Latent, Activation: c.Activation,
		Likelihood: vae.Likelihood(c.Likelihood), Sigma: c.Sigma, LearnSigma: c.LearnSigma,
		Beta: c.Beta, WarmupSteps: c.Warmup}, nil
}

func (c vaeConfig) validate() error {
	if c.Batch <= 0 || c.LR <= 0 {
		return errors.Errorf("batch (%d) and lr (%g) must be positive", c.Batch, c.LR)
	}
	if c.IWAEMaxSamples < 0 {
		return errors.Errorf("iwae_max_samples %d must be non-negative", c.IWAEMaxSamples)
	}
	if _, err := parseInts("iwae_k", c.IWAEK); err != nil {
		return err
	}
	// the model's own checks, on a throw-away store
	mc, err := c.modelConfig(1)
	if err != nil {
		return err
	}
	_, err = vae.New(graph.NewStore(tensor.Float32, graph.NewRNG(0, "check")), mc)
	return err
}

// vaeData holds the images of an experiment as intensities in [0, 1], image
// after image, each Rows x Cols.
type vaeData struct {
	Train, Test []float32
	Rows, Cols  int
}

func loadMNISTImages() (vaeData, error) {
	dir, err := datasets.Find("mnist")
	if err != nil {
		return vaeData{}, err
	}
	var d vaeData
	for _, split := range []string{"train", "test"} {
		img, _, rows, cols, err := datasets.LoadMNIST(dir, split)
		if err != nil {
			return vaeData{}, err
		}
		d.Rows, d.Cols = rows, cols
		if split == "train" {
			d.Train = datasets.ScalePixels(img)
		} else {
			d.Test = datasets.ScalePixels(img)
		}
	}
	return d, nil
}

func vaeMain(args []string) error {
	cfg := defaultVAEConfig()
	if err := parseFlags("vae", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	data, err := loadMNISTImages()
	if err != nil {
		return usage(err)
	}
	dir, err := runDir("vae", &cfg.Common)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	return finish(runVAE(ctx, cfg, dir, data, os.Stderr))
}

// runVAE trains the VAE on data, writing the run directory dir, then estimates
// the test log-likelihood. It returns train.ErrInterrupted when ctx is cancelled.
func runVAE(ctx context.Context, cfg vaeConfig, dir string, data vaeData, log io.Writer) error {
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	d := data.Rows * data.Cols
	if d == 0 || len(data.Train) < d || len(data.Test) < d || len(data.Train)%d != 0 || len(data.Test)%d != 0 {
		return errors.Errorf("vae: the data are not whole %dx%d images", data.Rows, data.Cols)
	}
	mc, err := cfg.modelConfig(d)
	if err != nil {
		return usage(err)
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := vae.New(store, mc)
	if err != nil {
		return usage(err)
	}
	task, err := newVAETask(cfg, model, store, data, dir)
	if err != nil {
		return err
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	adam := solvers.DefaultAdamConfig()
	adam.LR = cfg.LR
	solver, err := solvers.NewAdam(adam)
	if err != nil {
		return usage(err)
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Store: store, Solver: solver, Task: task,
		Best: "test_nelbo", ItemName: "images", Log: log}
	fmt.Fprintf(log, "vae: %d-%s-%d %s, %s decoder, %d parameters, %d train / %d test images, %d steps per epoch, run %s\n",
		d, cfg.Hidden, cfg.Latent, cfg.Activation, mc.Likelihood, store.Count(), task.nTrain, task.nTest, task.StepsPerEpoch(), dir)
	sum, err := loop.Run(ctx)
	if err != nil {
		return err
	}
	if sum.Final == nil {
		sum.Final = map[string]float64{}
	}
	if sum.Epochs > 0 {
		sum.Final["seconds_per_epoch"] = sum.Seconds / sum.Epochs
	}
	fmt.Fprintf(log, "vae: test negative ELBO %.2f nats (recon %.2f, KL %.2f) after %d steps, %.1f s per epoch\n",
		sum.Final["test_nelbo"], sum.Final["test_recon"], sum.Final["test_kl"], sum.Steps, sum.Final["seconds_per_epoch"])
	if err := task.iwae(ctx, sum, log); err != nil {
		return err
	}
	return train.WriteJSON(filepath.Join(dir, "summary.json"), sum)
}

// vaeTask trains on shuffled batches of the training images (the last batch of
// an epoch may be smaller) and evaluates on the whole test set.
type vaeTask struct {
	cfg           vaeConfig
	model         *vae.VAE
	store         *graph.Store
	data          vaeData
	dir           string
	d             int
	nTrain, nTest int
	progs         map[int]*vae.ELBOProgram // training programs by batch size
	evals         map[int]*vae.ELBOProgram // evaluation programs by batch size
	recon         *vae.Reconstructor
	samples       *vae.Generator
	manifold      *vae.Generator
	prior         []float64 // the fixed latent points of the sample grid
	perm          []int
	permEpoch     int
	lastStep      int
	sums          [4]float64 // since the last evaluation: nelbo, recon, kl (summed over images), images
}

const (
	reconImages  = 8  // test digits shown above their reconstructions
	sampleImages = 64 // 8x8 samples from the prior
	manifoldSide = 20 // 20x20 manifold when the latent space is 2-D
)

func newVAETask(cfg vaeConfig, m *vae.VAE, s *graph.Store, data vaeData, dir string) (*vaeTask, error) {
	d := data.Rows * data.Cols
	t := &vaeTask{cfg: cfg, model: m, store: s, data: data, dir: dir, d: d,
		nTrain: len(data.Train) / d, nTest: len(data.Test) / d,
		progs: map[int]*vae.ELBOProgram{}, evals: map[int]*vae.ELBOProgram{}, permEpoch: -1, lastStep: -1}
	var err error
	if t.recon, err = m.BuildReconstruct(s, min(reconImages, t.nTest)); err != nil {
		return nil, err
	}
	if t.samples, err = m.BuildDecode(s, sampleImages); err != nil {
		return nil, err
	}
	if m.Config.Latent == 2 {
		if t.manifold, err = m.BuildDecode(s, manifoldSide*manifoldSide); err != nil {
			return nil, err
		}
	}
	t.prior = make([]float64, sampleImages*m.Config.Latent)
	graph.StandardNormal(graph.NewRNG(cfg.Seed, "vae/prior"), t.prior)
	return t, nil
}

// program returns the cached ELBO program of the given batch size.
func (t *vaeTask) program(cache map[int]*vae.ELBOProgram, mode graph.Mode, n int) (*vae.ELBOProgram, error) {
	if p, ok := cache[n]; ok {
		return p, nil
	}
	p, err := t.model.BuildELBO(t.store, mode, n, nil)
	if err != nil {
		return nil, err
	}
	cache[n] = p
	return p, nil
}

func (t *vaeTask) StepsPerEpoch() int { return (t.nTrain + t.cfg.Batch - 1) / t.cfg.Batch }

// TrainStep trains on batch step%StepsPerEpoch of the permutation drawn for
// epoch step/StepsPerEpoch from the "shuffle/<epoch>" stream.
func (t *vaeTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	spe := t.StepsPerEpoch()
	epoch, pos := step/spe, step%spe
	if epoch != t.permEpoch {
		t.perm = batch.Perm(graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)), t.nTrain)
		t.permEpoch = epoch
	}
	idx := t.perm[pos*t.cfg.Batch : min((pos+1)*t.cfg.Batch, t.nTrain)]
	p, err := t.program(t.progs, graph.Train, len(idx))
	if err != nil {
		return train.Result{}, err
	}
	if err := vae.FillRows(p.X(), t.data.Train, t.d, idx); err != nil {
		return train.Result{}, err
	}
	if err := p.Feed(nil, t.model.Config.BetaAt(step)); err != nil {
		return train.Result{}, err
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	loss, recon, kl := p.Values()
	n := float64(len(idx))
	t.sums[0] += (recon + kl) * n
	t.sums[1] += recon * n
	t.sums[2] += kl * n
	t.sums[3] += n
	t.lastStep = step
	return train.Result{Loss: loss, Items: len(idx)}, nil
}

// Evaluate returns the negative ELBO (beta = 1) and its terms per test image,
// over the whole test set with eps drawn from a fixed-seed stream, so that
// evaluations differ only by the weights; the training images' means since the
// last evaluation; and writes the figures.
func (t *vaeTask) Evaluate() (map[string]float64, error) {
	noise := graph.NewRNG(t.cfg.Seed, "vae/eval")
	var nelbo, recon, kl float64
	idx := make([]int, 0, t.cfg.Batch)
	for start := 0; start < t.nTest; start += t.cfg.Batch {
		idx = idx[:0]
		for i := start; i < min(start+t.cfg.Batch, t.nTest); i++ {
			idx = append(idx, i)
		}
		p, err := t.program(t.evals, graph.Eval, len(idx))
		if err != nil {
			return nil, err
		}
		if err := vae.FillRows(p.X(), t.data.Test, t.d, idx); err != nil {
			return nil, err
		}
		if err := p.Feed(nil, 1); err != nil {
			return nil, err
		}
		p.SetNoise(noise)
		if err := p.Run(); err != nil {
			return nil, err
		}
		l, r, k := p.Values()
		n := float64(len(idx))
		nelbo, recon, kl = nelbo+l*n, recon+r*n, kl+k*n
	}
	n := float64(t.nTest)
	m := map[string]float64{"test_nelbo": nelbo / n, "test_recon": recon / n, "test_kl": kl / n}
	if t.sums[3] > 0 {
		m["train_nelbo"] = t.sums[0] / t.sums[3]
		m["train_recon"] = t.sums[1] / t.sums[3]
		m["train_kl"] = t.sums[2] / t.sums[3]
	}
	t.sums = [4]float64{}
	if err := t.figures(); err != nil {
		return nil, err
	}
	return m, nil
}

// TaskState is the training sums since the last evaluation, so that a run
// resumed mid-epoch reports the same training means.
func (t *vaeTask) TaskState() map[string]*tensor.Dense {
	return map[string]*tensor.Dense{"train_sums": graph.FromFloat64s(tensor.Float64, t.sums[:], len(t.sums))}
}

// SetTaskState restores the training sums.
func (t *vaeTask) SetTaskState(m map[string]*tensor.Dense) error {
	s, ok := m["train_sums"]
	if !ok || s.Shape().TotalSize() != len(t.sums) || s.Dtype() != tensor.Float64 {
		return errors.Errorf("checkpoint has no train_sums of %d float64 values", len(t.sums))
	}
	copy(t.sums[:], graph.Float64s(s))
	return nil
}

// figures writes the reconstructions, the samples and (latent size 2) the
// manifold of the current weights, named after the epoch (or the step when the
// evaluation falls inside an epoch).
func (t *vaeTask) figures() error {
	done := t.lastStep + 1
	tag := fmt.Sprintf("step%06d", done)
	if spe := t.StepsPerEpoch(); done%spe == 0 {
		tag = fmt.Sprintf("epoch%02d", done/spe)
	}
	h, w := t.data.Rows, t.data.Cols
	grid := vae.GridOptions{Cols: 8, Pad: 2, PadValue: 0.5}

	n := t.recon.Batch
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := graph.NewDense(t.store.Dtype(), n, t.d)
	if err := vae.FillRows(x, t.data.Test, t.d, idx); err != nil {
		return err
	}
	if err := t.recon.Set("x", x); err != nil {
		return err
	}
	if err := t.recon.Run(); err != nil {
		return err
	}
	mean, err := t.recon.Output("mean")
	if err != nil {
		return err
	}
	pix := append(graph.Float64s(x), graph.Float64s(mean)...)
	if err := t.savePNG("reconstruction_"+tag+".png", pix, h, w, vae.GridOptions{Cols: n, Pad: 2, PadValue: 0.5}); err != nil {
		return err
	}

	samples, err := t.samples.Generate(t.prior)
	if err != nil {
		return err
	}
	if err := t.savePNG("samples_"+tag+".png", samples, h, w, grid); err != nil {
		return err
	}
	if t.manifold != nil {
		pts, err := t.manifold.Generate(vae.ManifoldLatents(manifoldSide))
		if err != nil {
			return err
		}
		if err := t.savePNG("manifold_"+tag+".png", pts, h, w, vae.GridOptions{Cols: manifoldSide}); err != nil {
			return err
		}
	}
	return nil
}

func (t *vaeTask) savePNG(name string, pix []float64, h, w int, opt vae.GridOptions) error {
	img, err := vae.Grid(pix, h, w, opt)
	if err != nil {
		return err
	}
	return vae.WritePNG(filepath.Join(t.dir, name), img)
}

// iwaeEntry is one importance-weighted estimate, as iwae.json lists it.
type iwaeEntry struct {
	K       int     `json:"k"`
	Images  int     `json:"images"`
	Subset  string  `json:"subset"`
	NLL     float64 `json:"nll"`
	StdErr  float64 `json:"stderr"`
	Seconds float64 `json:"seconds"`
}

// iwae estimates the test negative log-likelihood of the final weights with the
// importance-weighted bound for each k of --iwae-k, on min(test set,
// iwae_max_samples/k) evenly spaced test images; when a k uses a subset, the
// smaller ks are also estimated on that subset, for comparison. It adds the
// estimates to the summary ("test_nll_iwae_k<k>", "iwae_images_k<k>") and writes
// iwae.json.
func (t *vaeTask) iwae(ctx context.Context, sum *train.Summary, log io.Writer) error {
	ks, err := parseInts("iwae_k", t.cfg.IWAEK)
	if err != nil || len(ks) == 0 {
		return err
	}
	count := func(k int) int {
		if t.cfg.IWAEMaxSamples == 0 {
			return t.nTest
		}
		return max(1, min(t.nTest, t.cfg.IWAEMaxSamples/k))
	}
	smallest := t.nTest
	for _, k := range ks {
		smallest = min(smallest, count(k))
	}
	type job struct{ k, n int }
	var jobs []job
	for _, k := range ks {
		jobs = append(jobs, job{k, count(k)})
		if smallest < count(k) {
			jobs = append(jobs, job{k, smallest})
		}
	}
	var entries []iwaeEntry
	for _, j := range jobs {
		if ctx.Err() != nil {
			return train.ErrInterrupted
		}
		subset, desc := t.testSubset(j.n)
		start := time.Now()
		est, err := t.model.ImportanceWeighted(t.store, subset, j.k, graph.NewRNG(t.cfg.Seed, fmt.Sprintf("vae/iwae/k%d/n%d", j.k, j.n)), vae.IWAEOptions{})
		if err != nil {
			return err
		}
		e := iwaeEntry{K: j.k, Images: j.n, Subset: desc, NLL: est.NLL, StdErr: est.StdErr, Seconds: time.Since(start).Seconds()}
		entries = append(entries, e)
		if j.n == count(j.k) {
			sum.Final[fmt.Sprintf("test_nll_iwae_k%d", j.k)] = e.NLL
			sum.Final[fmt.Sprintf("iwae_images_k%d", j.k)] = float64(j.n)
		}
		fmt.Fprintf(log, "vae: IWAE k=%d on %s: negative log-likelihood %.2f +- %.2f nats (%.0f s)\n", j.k, desc, e.NLL, e.StdErr, e.Seconds)
	}
	return train.WriteJSON(filepath.Join(t.dir, "iwae.json"), map[string]any{
		"estimates": entries,
		"weights":   "the final weights (checkpoints/last.safetensors)",
		"bound":     "L_k = E[log 1/k sum_i p(x, z_i)/q(z_i|x)] (Burda et al. 2016); nll is the mean of -L_k over the images, stderr its standard error across images",
	})
}

// testSubset returns n test images, evenly spaced through the test set (all of
// them when n is the test set's size), and a description.
func (t *vaeTask) testSubset(n int) ([]float32, string) {
	if n >= t.nTest {
		return t.data.Test, fmt.Sprintf("all %d test images", t.nTest)
	}
	out := make([]float32, 0, n*t.d)
	for i := range n {
		j := i * t.nTest / n
		out = append(out, t.data.Test[j*t.d:(j+1)*t.d]...)
	}
	return out, fmt.Sprintf("%d test images (image i*%d/%d for i < %d)", n, t.nTest, n, n)
}

var _ train.StatefulTask = (*vaeTask)(nil)
