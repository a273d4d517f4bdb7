package summarize

import (
	"context"
	"io"
	"time"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Run trains a model, keeps the weights of the best greedy validation ROUGE,
// decodes the validation set with them (greedily and with beam search), scores
// the headlines against the lead baseline and returns the summary that
// summary.json holds. The run directory gets config.json, vocab.json,
// metrics.jsonl, checkpoints, summary.json, samples.md and the validation
// headlines (valid.greedy.txt, valid.beam.txt); log gets the readable log
// (nil: os.Stderr). A bad setting or dataset is a train.Usage error; a
// cancelled ctx stops training with a checkpoint and returns
// train.ErrInterrupted.
func Run(ctx context.Context, cfg Config, log io.Writer) (_ *Summary, err error) {
	start := time.Now()
	s, err := train.Open(ctx, "summarize", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	trainSet, validSet, voc, err := loadData(cfg)
	if err != nil {
		return nil, err
	}
	if s.Root() { // rank 0 of a group writes the run's files
		if err := voc.Save(s.Path("vocab.json")); err != nil {
			return nil, err
		}
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := pointer.New(store, cfg.model(voc.Len()))
	if err != nil {
		return nil, train.Usage(err)
	}
	t, err := newTask(cfg, model, store, voc, trainSet, validSet)
	if err != nil {
		return nil, err
	}
	defer t.close()
	ad := solvers.DefaultAdamConfig()
	ad.LR = cfg.LR
	solver, err := solvers.NewAdam(ad)
	if err != nil {
		return nil, train.Usage(err)
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.ClipNorm, loop.Task = store, solver, cfg.ClipNorm, t
	loop.Schedule = cfg.StepDecay.Schedule(cfg.LR, t.StepsPerEpoch())
	loop.Best, loop.BestMax, loop.ItemName = "val_rouge", true, "tokens"
	s.Logf("summarize: %s, %d parameters, vocabulary %d, %d train / %d validation pairs, buckets %v, %d steps per epoch, run %s",
		cfg.modelName(), store.Count(), voc.Len(), len(trainSet), len(validSet), t.shapes, t.StepsPerEpoch(), s.Dir)
	sum, err := loop.Run(ctx)
	if err != nil {
		return nil, err
	}
	if !s.Root() { // rank 0 of a group decodes and reports
		return &Summary{Summary: sum, Dir: s.Dir}, nil
	}
	if _, err := train.LoadParams(s.Dir, store); err != nil {
		return nil, err
	}
	out, err := t.report(ctx, s.Dir, sum, start)
	if err != nil {
		return nil, err
	}
	s.Logf("%s", out)
	return out, s.Summaries().Text("samples", sum.Steps, out.samplesPage().Markdown())
}
