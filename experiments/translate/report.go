package translate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/triadml/triad/train"
)

// BLEUSummary holds the corpus BLEU scores (sacreBLEU, 13a tokenisation) of the
// final evaluation.
type BLEUSummary struct {
	Greedy          float64 `json:"greedy"`
	GreedyLowercase float64 `json:"greedy_lowercase"`
	Beam            float64 `json:"beam,omitempty"`
	BeamLowercase   float64 `json:"beam_lowercase,omitempty"`
	// Signature and Detail are sacreBLEU's, for the lowercased greedy score.
	Signature string `json:"signature"`
	Detail    string `json:"detail"`
}

// Summary is what a run's summary.json holds: the training loop's summary plus
// the final evaluation of the best checkpoint on the validation pairs.
type Summary struct {
	train.Summary
	// Dir is the run directory (not part of summary.json).
	Dir              string      `json:"-"`
	Model            string      `json:"model"`
	Params           int         `json:"params"`
	SrcVocab         int         `json:"src_vocab"`
	TgtVocab         int         `json:"tgt_vocab"`
	ValSentences     int         `json:"val_sentences"`
	EvaluatedStep    int         `json:"evaluated_step"` // the step of the weights evaluated (the best by lowercased greedy BLEU)
	BLEU             BLEUSummary `json:"bleu"`
	ValLoss          float64     `json:"val_loss"`
	ValPerplexity    float64     `json:"val_perplexity"`
	BeamSize         int         `json:"beam_size"`
	LengthPenalty    float64     `json:"length_penalty"`
	GreedySentPerSec float64     `json:"greedy_sentences_per_second"`
	BeamSentPerSec   float64     `json:"beam_sentences_per_second,omitempty"`
	Translations     []string    `json:"translations"` // files of the run directory holding the validation translations
	TotalSeconds     float64     `json:"total_seconds"`
	Command          string      `json:"command"` // reproduces the run from scratch
	// FinalEvalRSS is the process's resident memory over the final evaluation
	// (perplexity, greedy decoding, beam search), the training programs and
	// their memory released; absent where it cannot be read.
	FinalEvalRSS *train.RSS `json:"final_eval_rss,omitempty"`
}

// String returns the run's result on one line: BLEU, decoding speed,
// perplexity, the weights evaluated, the time and how to reproduce the run.
func (s *Summary) String() string {
	beam := ""
	if s.BeamSize > 0 {
		beam = fmt.Sprintf(", beam %d %.2f (lowercased %.2f, %.1f sentences/s)", s.BeamSize, s.BLEU.Beam, s.BLEU.BeamLowercase, s.BeamSentPerSec)
	}
	return fmt.Sprintf("translate: validation BLEU greedy %.2f (lowercased %.2f, %.1f sentences/s)%s, perplexity %.2f; weights of step %d of %d, %.0f s, %d threads; run %s; reproduce: %s",
		s.BLEU.Greedy, s.BLEU.GreedyLowercase, s.GreedySentPerSec, beam, s.ValPerplexity, s.EvaluatedStep, s.Steps, s.TotalSeconds, s.Threads, s.Dir, s.Command)
}

// report evaluates the best checkpoint (else the last), writes the
// translations and summary.json, and returns the summary.
func (t *task) report(ctx context.Context, sum *train.Summary, start time.Time) (*Summary, error) {
	ckpt, err := train.LoadParams(t.dir, t.m.store)
	if err != nil {
		return nil, err
	}
	t.endPhase()
	watch := train.WatchRSS()
	ev, err := t.evaluate(ctx, t.cfg.Beam > 1)
	rss, rssOK := watch.Stop()
	if err != nil {
		return nil, err
	}
	if err := ev.write(t.dir, "val"); err != nil {
		return nil, err
	}
	step := sum.Steps
	if sum.BestStep > 0 && strings.HasSuffix(ckpt, "best.safetensors") {
		step = sum.BestStep
	}
	if err := train.NewSummaries(t.dir).Text("samples", step, t.samples(ev, 8).Markdown()); err != nil {
		return nil, err
	}
	s := &Summary{Summary: *sum, Dir: t.dir, Model: t.cfg.Model, Params: t.m.store.Count(), SrcVocab: t.src.voc.Len(), TgtVocab: t.tgt.voc.Len(),
		ValSentences: len(t.valRefs), EvaluatedStep: step, ValLoss: ev.loss, ValPerplexity: ev.ppl, LengthPenalty: t.cfg.LengthPenalty,
		GreedySentPerSec: ev.greedyPerSec, BeamSentPerSec: ev.beamPerSec, Translations: []string{"val.greedy.txt"},
		Command: t.cfg.command()}
	s.BLEU = BLEUSummary{Greedy: ev.bleu.Score, GreedyLowercase: ev.bleuLC.Score, Signature: ev.bleuLC.Signature, Detail: ev.bleuLC.String()}
	if ev.beam != nil {
		s.BeamSize = ev.beamSize
		s.BLEU.Beam, s.BLEU.BeamLowercase = ev.beamBLEU.Score, ev.beamLC.Score
		s.Translations = append(s.Translations, fmt.Sprintf("val.beam%d.txt", ev.beamSize))
	}
	if rssOK {
		s.FinalEvalRSS = &rss
	}
	s.TotalSeconds = time.Since(start).Seconds()
	if err := train.WriteJSON(filepath.Join(t.dir, "summary.json"), s); err != nil {
		return nil, err
	}
	return s, nil
}
