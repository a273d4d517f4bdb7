package translate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/seq2seq"
)

// Evaluate implements train.Task: the validation perplexity and the BLEU of
// greedy decoding (and of beam search with BeamEpochs), cased and lowercased. It
// writes the translations to translations/.
func (t *task) Evaluate() (map[string]float64, error) {
	ev, err := t.evaluate(context.Background(), t.cfg.BeamEpochs)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("val.step%07d", t.done)
	if err := ev.write(filepath.Join(t.dir, "translations"), name); err != nil {
		return nil, err
	}
	fmt.Fprintf(t.log, "step %d: validation greedy decoding %.1f sentences/s\n", t.done, ev.greedyPerSec)
	return ev.metrics(), nil
}

// evaluation is one evaluation of the validation set.
type evaluation struct {
	loss, ppl        float64
	greedy, beam     []string
	bleu, bleuLC     metrics.BLEUScore
	beamBLEU, beamLC metrics.BLEUScore
	greedyPerSec     float64
	beamPerSec       float64
	beamSize         int
}

// metrics returns the evaluation's points of metrics.jsonl.
func (e *evaluation) metrics() map[string]float64 {
	// decoding speeds are left out: metrics.jsonl stays bitwise reproducible
	m := map[string]float64{"val_loss": e.loss, "val_ppl": e.ppl, "val_bleu": e.bleu.Score, "val_bleu_lc": e.bleuLC.Score}
	if e.beam != nil {
		m["val_bleu_beam"], m["val_bleu_beam_lc"] = e.beamBLEU.Score, e.beamLC.Score
	}
	return m
}

// write writes the greedy (and beam) translations to dir/name.greedy.txt (and
// dir/name.beamK.txt).
func (e *evaluation) write(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "translate")
	}
	write := func(suffix string, lines []string) error {
		path := filepath.Join(dir, name+suffix)
		return errors.Wrap(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644), "translate")
	}
	if err := write(".greedy.txt", e.greedy); err != nil {
		return err
	}
	if e.beam != nil {
		return write(fmt.Sprintf(".beam%d.txt", e.beamSize), e.beam)
	}
	return nil
}

// evaluate computes the validation perplexity and decodes the validation
// sources greedily (and with beam search when beam is set). It stops between
// sentences, with train.ErrInterrupted, when ctx is cancelled.
func (t *task) evaluate(ctx context.Context, beam bool) (*evaluation, error) {
	t.endPhase()
	defer t.endPhase()
	ev := &evaluation{}
	var err error
	if ev.loss, err = t.valLoss(); err != nil {
		return nil, err
	}
	ev.ppl = math.Exp(ev.loss)
	greedy := func() ([]decode.Hypothesis, error) { return t.m.greedyAll(ctx, t.valSrc) }
	if ev.greedy, ev.greedyPerSec, ev.bleu, ev.bleuLC, err = t.decodeScored(greedy); err != nil {
		return nil, err
	}
	if beam && t.cfg.Beam > 1 {
		ev.beamSize = t.cfg.Beam
		beams := func() ([]decode.Hypothesis, error) {
			return t.m.beamAll(ctx, t.valSrc, t.cfg.Beam, t.cfg.LengthPenalty)
		}
		if ev.beam, ev.beamPerSec, ev.beamBLEU, ev.beamLC, err = t.decodeScored(beams); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// decodeScored ends the phase before it, decodes the validation sources with
// decodeAll, and returns the texts, the sentences decoded a second and their
// corpus BLEU, cased and lowercased.
func (t *task) decodeScored(decodeAll func() ([]decode.Hypothesis, error)) (texts []string, perSec float64, cased, lower metrics.BLEUScore, err error) {
	t.endPhase()
	t0 := time.Now()
	hyps, err := decodeAll()
	if err != nil {
		return nil, 0, cased, lower, err
	}
	perSec = float64(len(hyps)) / time.Since(t0).Seconds()
	texts = t.texts(hyps)
	cased, lower, err = bleu(texts, t.valRefs)
	return texts, perSec, cased, lower, err
}

// texts detokenises the validation hypotheses.
func (t *task) texts(hyps []decode.Hypothesis) []string {
	out := make([]string, len(hyps))
	for i, h := range hyps {
		out[i] = t.tgt.text(h.Tokens, unkReplacer(t.cfg, t.src, t.valSrcToks[i], h))
	}
	return out
}

// bleu returns sacreBLEU's corpus BLEU (13a tokenisation, exp smoothing) of
// detokenised hypotheses against the raw references, cased and lowercased.
func bleu(hyps, refs []string) (cased, lower metrics.BLEUScore, err error) {
	if cased, err = metrics.SacreBLEU(hyps, [][]string{refs}, metrics.BLEUOptions{}); err != nil {
		return cased, lower, errors.Wrap(err, "translate: BLEU")
	}
	lower, err = metrics.SacreBLEU(hyps, [][]string{refs}, metrics.BLEUOptions{Lowercase: true})
	return cased, lower, errors.Wrap(err, "translate: BLEU")
}

// valLoss returns the mean cross-entropy per target token (EOS included, no
// label smoothing) of the validation pairs, teacher-forced, in batches grouped
// by length, each padded to a multiple of 8: at most the evaluation size, and
// within max_tokens rows x padded length as the training programs are (the
// vocabulary-wide outputs of a batch of 128 long pairs would otherwise need
// more memory than training).
func (t *task) valLoss() (float64, error) {
	order := make([]int, 0, len(t.valSrc))
	for i, s := range t.valSrc {
		if len(s) > 0 {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return 0, errors.New("translate: no validation pair has a source")
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if len(t.valSrc[x]) != len(t.valSrc[y]) {
			return len(t.valSrc[x]) < len(t.valSrc[y])
		}
		return len(t.valTgt[x]) < len(t.valTgt[y])
	})
	padded := func(j int) (ls, lt int) {
		return min((len(t.valSrc[j])+7)/8*8, t.m.maxSrc), min((len(t.valTgt[j])+1+7)/8*8, t.m.maxTgt)
	}
	var sum float64
	var tokens int
	for lo, hi := 0, 0; lo < len(order); lo = hi {
		ls, lt := padded(order[lo])
		for hi = lo + 1; hi < len(order) && hi-lo < t.cfg.EvalBatch; hi++ {
			s, u := padded(order[hi])
			s, u = max(ls, s), max(lt, u)
			if t.cfg.MaxTokens > 0 && (hi-lo+1)*max(s, u) > t.cfg.MaxTokens {
				break
			}
			ls, lt = s, u
		}
		chunk := order[lo:hi]
		srcs, tgts := make([][]int, len(chunk)), make([][]int, len(chunk))
		for i, j := range chunk {
			srcs[i], tgts[i] = t.valSrc[j], t.valTgt[j]
		}
		prog, err := t.evals.Get([3]int{len(chunk), ls, lt})
		if err != nil {
			return 0, err
		}
		n, loss, err := seq2seq.RunPairs(prog, srcs, tgts, nil)
		if err != nil {
			return 0, err
		}
		sum += loss * float64(n)
		tokens += n
	}
	return sum / float64(tokens), nil
}
