package translate

import (
	"context"
	"io"
	"time"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Run trains a model on Multi30k's training pairs, evaluates it at every
// evaluation point (perplexity and BLEU of greedy decoding on the validation
// pairs, best checkpoint by lowercased BLEU), then evaluates the best checkpoint
// once more with beam search, and returns the summary that summary.json holds.
// The run directory gets config.json, the vocabularies, metrics.jsonl,
// checkpoints and the validation translations. log receives the readable log
// (nil: os.Stderr). Bad settings or missing data give an error that
// train.IsUsage reports; a cancelled ctx stops the run with train.ErrInterrupted
// after a checkpoint of the last finished step.
func Run(ctx context.Context, cfg Config, log io.Writer) (_ *Summary, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(err)
	}
	trainPairs, valPairs, err := loadPairs(cfg)
	if err != nil {
		return nil, train.Usage(err)
	}
	s, err := train.Open(ctx, "translate", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	start := time.Now()
	src, tgt, err := sides(cfg, s.Dir, trainPairs, s.Root())
	if err != nil {
		return nil, err
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	m, err := newModel(cfg, src.voc.Len(), tgt.voc.Len())
	if err != nil {
		return nil, train.Usage(err)
	}
	t, err := newTask(cfg, m, src, tgt, trainPairs, valPairs, s.Dir, s.Log)
	if err != nil {
		return nil, err
	}
	defer t.close()
	solver, err := cfg.Common.Solver("adam", solvers.Hyper{"lr": cfg.LR, "beta2": cfg.Beta2, "weight_decay": cfg.WeightDecay})
	if err != nil {
		return nil, err
	}
	sched, err := cfg.schedule(t.StepsPerEpoch())
	if err != nil {
		return nil, train.Usage(err)
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.Schedule, loop.ClipNorm = m.store, solver, sched, cfg.ClipNorm
	loop.Task, loop.Best, loop.BestMax, loop.ItemName = t, "val_bleu_lc", true, "tokens"
	s.Logf("translate: %s %s->%s, %d parameters, %s vocabularies %d/%d, %d train pairs (%d left out: longer than %d tokens or empty), %d validation, buckets %s, %d steps per epoch, run %s",
		cfg.Model, cfg.Src, cfg.Tgt, m.store.Count(), cfg.Vocab, src.voc.Len(), tgt.voc.Len(), len(t.trainSrc), t.dropped, cfg.MaxLen,
		len(t.valRefs), t.describeShapes(), t.StepsPerEpoch(), s.Dir)
	sum, err := loop.Run(ctx)
	if err != nil {
		return nil, err
	}
	if !s.Root() { // rank 0 of a group decodes and reports
		return &Summary{Summary: *sum, Dir: s.Dir}, nil
	}
	out, err := t.report(ctx, sum, start)
	if err == nil {
		s.Logf("%s", out)
	}
	return out, err
}

// loadPairs reads the training and validation pairs, cut to the sizes asked for.
func loadPairs(cfg Config) (trainPairs, valPairs []datasets.Pair, err error) {
	data, err := cfg.Find("multi30k")
	if err != nil {
		return nil, nil, err
	}
	if trainPairs, err = datasets.LoadMulti30k(data, "train", cfg.Src, cfg.Tgt); err != nil {
		return nil, nil, err
	}
	if valPairs, err = datasets.LoadMulti30k(data, "val", cfg.Src, cfg.Tgt); err != nil {
		return nil, nil, err
	}
	if cfg.TrainSize > 0 && cfg.TrainSize < len(trainPairs) {
		trainPairs = trainPairs[:cfg.TrainSize]
	}
	valPairs = valPairs[:cfg.EvalSet.Of(len(valPairs))]
	if len(trainPairs) == 0 || len(valPairs) == 0 {
		return nil, nil, errors.Errorf("%s: %d training and %d validation pairs", data, len(trainPairs), len(valPairs))
	}
	return trainPairs, valPairs, nil
}

// sides returns the tokenizers and vocabularies of a run: those it saved when
// it resumes, else learnt from the training pairs and (when save) saved into
// dir.
func sides(cfg Config, dir string, trainPairs []datasets.Pair, save bool) (src, tgt *side, err error) {
	if cfg.Resume != "" {
		if src, tgt, err = loadSides(dir, cfg); err != nil {
			return nil, nil, train.Usage(err)
		}
		return src, tgt, nil
	}
	if src, tgt, err = buildSides(cfg, trainPairs); err != nil {
		return nil, nil, err
	}
	if !save {
		return src, tgt, nil
	}
	if err := src.save(dir); err != nil {
		return nil, nil, err
	}
	if err := tgt.save(dir); err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}
