package lm

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Summary is what a run's summary.json holds, with where the run is.
type Summary struct {
	train.Summary
	// Dir is the run directory.
	Dir string `json:"-"`
	// Rank is this process's rank in the --dist group (0 for a process alone);
	// only rank 0 writes the run's files.
	Rank int `json:"-"`
}

// Run trains a language model as cfg says, writing the run directory (vocab.json,
// config.json, metrics.jsonl, checkpoints, summary.json) and the readable log to
// log (nil: os.Stderr), and returns the run's summary. A bad configuration or a
// missing text is a train.Usage error; a cancelled ctx stops the run with a
// checkpoint and returns the summary so far with train.ErrInterrupted.
func Run(ctx context.Context, cfg Config, log io.Writer) (_ *Summary, err error) {
	s, err := train.Open(ctx, "lm", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	data, err := loadCorpus(cfg)
	if err != nil {
		return nil, err
	}
	if s.Root() {
		if err := data.vocab.Save(s.Path("vocab.json")); err != nil {
			return nil, err
		}
	}
	loop := s.Loop()
	t, err := prepare(cfg, data, loop)
	if err != nil {
		return nil, err
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	ranks, rank := "", 0
	if s.Comm != nil {
		ranks, rank = fmt.Sprintf(", %d ranks of %d threads", s.Comm.Size(), cfg.Threads), s.Comm.Rank()
	}
	s.Logf("lm: %s, %d parameters, vocabulary %d, %d train / %d validation tokens, %d steps per epoch%s, run %s",
		cfg.Cell, loop.Store.Count(), data.vocab.Len(), len(data.train), len(data.val), t.StepsPerEpoch(), ranks, s.Dir)
	sum, err := loop.Run(ctx)
	if sum == nil {
		return nil, err
	}
	out := &Summary{Summary: *sum, Dir: s.Dir, Rank: rank}
	if err == nil {
		s.Logf("lm: %s", out)
		if s.Root() {
			err = summarizeSample(s, out.Steps)
		}
	}
	return out, err
}

// summarizeSample adds a sample of the finished run (its best checkpoint, 300
// tokens after the vocabulary's first ordinary token) to the run's
// TensorBoard texts.
func summarizeSample(s *train.Session, step int) error {
	m, err := Load(s.Dir)
	if err != nil {
		return err
	}
	defer m.Close()
	opts := DefaultSampleOptions()
	opts.N = 300
	text, err := m.Sample(strings.Join(m.Vocab.Decode([]int{vocab.NumSpecial}), ""), opts)
	if err != nil {
		return err
	}
	return s.Summaries().Text("samples", step, train.Preformatted(text))
}

// prepare builds the model, its task on data and the solver into loop, with
// char-rnn's schedule and clipping.
func prepare(cfg Config, data *corpus, loop *train.Loop) (*task, error) {
	m, store, err := newModel(cfg, data.vocab.Len())
	if err != nil {
		return nil, train.Usage(err)
	}
	t, err := newTask(cfg, m, store, data.vocab.Encode(data.train), data.vocab.Encode(data.val))
	if err != nil {
		return nil, err
	}
	// RMSProp unless --optimizer names another
	solver, err := cfg.Solver("rmsprop", solvers.Hyper{"lr": cfg.LR, "alpha": cfg.Alpha})
	if err != nil {
		return nil, err
	}
	loop.Store, loop.Solver, loop.Task = store, solver, t
	loop.Schedule = cfg.StepDecay.Schedule(cfg.LR, t.StepsPerEpoch())
	loop.ClipNorm, loop.ClipValue = cfg.ClipNorm, cfg.ClipValue
	loop.Best, loop.ItemName = "val_loss", "tokens"
	return t, nil
}

// String is the run's result in one line: the final validation loss and
// perplexity, the steps and the speed.
func (s *Summary) String() string {
	return fmt.Sprintf("validation %.4f nats/token (perplexity %.2f) after %d steps, %.0f tokens/s, %d threads",
		s.Final["val_loss"], s.Final["val_ppl"], s.Steps, s.ItemsPerSec, s.Threads)
}
