package vae

import (
	"context"
	"io"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Summary is what a run's summary.json holds, with where the run is and its
// importance-weighted estimates (iwae.json's).
type Summary struct {
	train.Summary
	// Dir is the run directory.
	Dir string `json:"-"`
	// IWAE are the final log-likelihood estimates, in the order of Config.IWAEK.
	IWAE []IWAEEstimate `json:"-"`
}

// Run trains a VAE on MNIST (see LoadMNIST) as RunOn does.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(err)
	}
	data, err := LoadMNIST("")
	if err != nil {
		return nil, train.Usage(err)
	}
	return RunOn(ctx, cfg, data, log)
}

// RunOn trains a VAE on data's training images, evaluating on its test images,
// and writes the run directory: config.json, metrics.jsonl, checkpoints, the
// figures of each evaluation, summary.json and iwae.json. log (nil: os.Stderr)
// receives the readable log. When ctx is cancelled it returns
// train.ErrInterrupted, with the summary so far when training was cut short.
func RunOn(ctx context.Context, cfg Config, data Data, log io.Writer) (_ *Summary, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(err)
	}
	if err := data.check(); err != nil {
		return nil, train.Usage(err)
	}
	d := data.Pixels()
	mc, err := cfg.modelConfig(d)
	if err != nil {
		return nil, train.Usage(err)
	}
	s, err := train.Open(ctx, "vae", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := vaemodel.New(store, mc)
	if err != nil {
		return nil, train.Usage(err)
	}
	m := NewModel(store, model)
	defer m.Close()
	task := newTask(cfg, m, data, s.Dir)
	defer task.close()
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	solver, err := solvers.New("adam", solvers.Hyper{"lr": cfg.LR})
	if err != nil {
		return nil, train.Usage(err)
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.ClipNorm, loop.Task = store, solver, cfg.ClipNorm, task
	loop.Best, loop.ItemName = "test_nelbo", "images"
	s.Logf("vae: %d-%s-%d %s, %s decoder, %d parameters, %d train / %d test images, %d steps per epoch, run %s",
		d, cfg.Hidden, cfg.Latent, cfg.Activation, mc.Likelihood, store.Count(), task.nTrain, task.nTest, task.StepsPerEpoch(), s.Dir)
	ts, err := loop.Run(ctx)
	if err != nil {
		if ts != nil {
			return &Summary{Summary: *ts, Dir: s.Dir}, err
		}
		return nil, err
	}
	sum := &Summary{Summary: *ts, Dir: s.Dir}
	if sum.Final == nil {
		sum.Final = map[string]float64{}
	}
	if sum.Epochs > 0 {
		sum.Final["seconds_per_epoch"] = sum.Seconds / sum.Epochs
	}
	s.Logf("vae: test negative ELBO %.2f nats (recon %.2f, KL %.2f) after %d steps, %.1f s per epoch",
		sum.Final["test_nelbo"], sum.Final["test_recon"], sum.Final["test_kl"], sum.Steps, sum.Final["seconds_per_epoch"])
	if !s.Root() { // rank 0 of a group estimates and writes the rest
		return sum, nil
	}
	if sum.IWAE, err = task.iwae(ctx, sum.Final, s.Logf); err != nil {
		return sum, err
	}
	return sum, train.WriteJSON(s.Path("summary.json"), &sum.Summary)
}
