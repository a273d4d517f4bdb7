package summarize

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/internal/atomicfile"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/metrics/report"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/train"
)

// Summary is what summary.json holds: the loop's summary and the final figures.
type Summary struct {
	*train.Summary
	// Dir is the run directory (not written to summary.json).
	Dir             string             `json:"-"`
	Model           string             `json:"model"`
	Params          int                `json:"params"`
	Vocab           int                `json:"vocab"`
	TrainPairs      int                `json:"train_pairs"`
	ValidPairs      int                `json:"valid_pairs"`
	Greedy          metrics.RougeF1    `json:"rouge_greedy"`
	BeamRouge       metrics.RougeF1    `json:"rouge_beam"`
	Beam            int                `json:"beam"`
	LengthPenalty   float64            `json:"length_penalty"`
	NoRepeatTrigram bool               `json:"no_repeat_trigram"`
	NoRepeatWords   bool               `json:"no_repeat_words"`
	NoUnk           bool               `json:"no_unk"`
	Lead            metrics.LeadResult `json:"lead_baseline"`
	// BeatsLead: the beam headlines beat the lead baseline on ROUGE-1, -2 and
	// -L (on the pairs decoded with beam search).
	BeatsLead    bool         `json:"beats_lead"`
	Unseen       *UnseenPairs `json:"unseen_pairs,omitempty"`
	CopiedOOV    float64      `json:"copied_oov_fraction"`
	UnkFraction  float64      `json:"unk_fraction"`
	WordsPerHead float64      `json:"words_per_headline"`
	EvalSeconds  float64      `json:"eval_seconds"`
	TotalSeconds float64      `json:"total_seconds"`
	Samples      []Sample     `json:"samples"`
	// FinalEvalRSS is the process's resident memory over the final evaluation
	// (greedy decoding, beam search), the training programs and their memory
	// released; absent where it cannot be read.
	FinalEvalRSS *train.RSS `json:"final_eval_rss,omitempty"`

	leadOnBeam metrics.RougeF1 // the lead baseline on the pairs decoded with beam search
}

// decodingChosenOn is the number of leading validation pairs on which the
// default decoding settings (beam, length penalty, blocking) were chosen; the
// report also scores the pairs after them, which played no part in that choice.
const decodingChosenOn = 300

// UnseenPairs are the beam and lead figures on the validation pairs from index
// From on, which played no part in choosing the decoding settings.
type UnseenPairs struct {
	From int             `json:"from"`
	Beam metrics.RougeF1 `json:"beam"`
	Lead metrics.RougeF1 `json:"lead"`
}

// Sample is one validation example shown in samples.md.
type Sample struct {
	Article   string `json:"article"`
	Reference string `json:"reference"`
	Lead      string `json:"lead"`
	Greedy    string `json:"greedy"`
	Beam      string `json:"beam"`
}

// String is the run's one-line result: the beam and greedy ROUGE against the
// lead baseline on the pairs decoded with beam search (on the whole validation
// set for a summary read back from summary.json, which holds only that).
func (s *Summary) String() string {
	unseen := ""
	if u := s.Unseen; u != nil {
		unseen = fmt.Sprintf("; pairs %d on: beam %.2f/%.2f/%.2f, lead %.2f/%.2f/%.2f", u.From+1,
			100*u.Beam.Rouge1, 100*u.Beam.Rouge2, 100*u.Beam.RougeL, 100*u.Lead.Rouge1, 100*u.Lead.Rouge2, 100*u.Lead.RougeL)
	}
	lead := s.leadOnBeam
	if lead.Pairs == 0 {
		lead = s.Lead.Valid
	}
	return fmt.Sprintf("summarize: %s, ROUGE-1/2/L F1 %.2f/%.2f/%.2f (beam %d on %d pairs), greedy %.2f/%.2f/%.2f; lead-%d baseline %.2f/%.2f/%.2f%s; %d steps, %.0f s, run %s",
		s.Model, 100*s.BeamRouge.Rouge1, 100*s.BeamRouge.Rouge2, 100*s.BeamRouge.RougeL, s.Beam, s.BeamRouge.Pairs,
		100*s.Greedy.Rouge1, 100*s.Greedy.Rouge2, 100*s.Greedy.RougeL, s.Lead.N,
		100*lead.Rouge1, 100*lead.Rouge2, 100*lead.RougeL, unseen, s.Steps, s.TotalSeconds, s.Dir)
}

// report decodes the evaluated validation pairs (all of them, or EvalSize
// spread evenly over the set, as at each evaluation) with the best weights,
// greedily and (the first BeamEval) with beam search, compares with the lead baseline and writes summary.json,
// samples.md and the headlines. A cancelled ctx stops it with
// train.ErrInterrupted: training is over and its checkpoints are written.
func (t *task) report(ctx context.Context, dir string, sum *train.Summary, start time.Time) (*Summary, error) {
	t0 := time.Now()
	cfg := t.cfg
	pairs := make([]pair, len(t.evalIdx))
	refs := make([]string, len(t.evalIdx))
	for i, j := range t.evalIdx {
		pairs[i], refs[i] = t.valid[j], t.valid[j].Reference
	}
	t.endPhase()
	watch := train.WatchRSS()
	defer watch.Stop()
	greedy, err := t.decodeGreedy(t.evalIdx)
	if err != nil {
		return nil, err
	}
	t.endPhase()
	s := &Summary{Summary: sum, Dir: dir, Model: cfg.modelName(), Params: t.store.Count(), Vocab: t.voc.Len(),
		TrainPairs: len(t.train), ValidPairs: len(pairs), Beam: cfg.Beam, LengthPenalty: cfg.LengthPenalty,
		NoRepeatTrigram: cfg.NoRepeatTrigram, NoRepeatWords: cfg.NoRepeatWords, NoUnk: cfg.NoUnk}
	if s.Greedy, err = metrics.MeanRougeF1(refs, greedy); err != nil {
		return nil, err
	}
	nBeam := len(pairs)
	if cfg.BeamEval > 0 && cfg.BeamEval < nBeam {
		nBeam = cfg.BeamEval
	}
	beam, err := t.decodeBeam(ctx, s, pairs[:nBeam])
	if rss, ok := watch.Stop(); ok {
		s.FinalEvalRSS = &rss
	}
	if err != nil {
		return nil, err
	}
	if s.BeamRouge, err = metrics.MeanRougeF1(refs[:nBeam], beam); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, train.ErrInterrupted
	}
	valid := summaryPairs(pairs)
	if s.Lead, err = metrics.LeadBaseline(summaryPairs(t.train), valid, cfg.LeadMax); err != nil {
		return nil, err
	}
	s.leadOnBeam = s.Lead.Valid
	if nBeam < len(pairs) { // compare on the same pairs
		if s.leadOnBeam, err = metrics.MeanRougeF1(refs[:nBeam], metrics.LeadTexts(valid[:nBeam], s.Lead.N)); err != nil {
			return nil, err
		}
	}
	lead := s.leadOnBeam
	s.BeatsLead = s.BeamRouge.Rouge1 > lead.Rouge1 && s.BeamRouge.Rouge2 > lead.Rouge2 && s.BeamRouge.RougeL > lead.RougeL
	// the evaluated pairs from n on are validation pairs from decodingChosenOn on
	if n := sort.SearchInts(t.evalIdx, decodingChosenOn); nBeam > n {
		u := &UnseenPairs{From: t.evalIdx[n]}
		if u.Beam, err = metrics.MeanRougeF1(refs[n:nBeam], beam[n:]); err != nil {
			return nil, err
		}
		if u.Lead, err = metrics.MeanRougeF1(refs[n:nBeam], metrics.LeadTexts(valid[n:nBeam], s.Lead.N)); err != nil {
			return nil, err
		}
		s.Unseen = u
	}
	lines := func(name string, hs []string) error {
		return atomicfile.WriteFile(filepath.Join(dir, name), []byte(strings.Join(hs, "\n")+"\n"), 0o644)
	}
	if err := lines("valid.greedy.txt", greedy); err != nil {
		return nil, err
	}
	if err := lines("valid.beam.txt", beam); err != nil {
		return nil, err
	}
	for k := 0; k < min(cfg.Samples, nBeam); k++ {
		i := k * nBeam / min(cfg.Samples, nBeam)
		p := pairs[i]
		s.Samples = append(s.Samples, Sample{Article: strings.Join(p.Words, " "), Reference: p.Reference,
			Lead: metrics.Lead(p.Words, s.Lead.N), Greedy: greedy[i], Beam: beam[i]})
	}
	s.EvalSeconds = time.Since(t0).Seconds()
	s.TotalSeconds = time.Since(start).Seconds()
	if err := train.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return nil, err
	}
	return s, s.samplesPage().WriteFile(filepath.Join(dir, "samples.md"))
}

// decodeBeam decodes validation pairs with beam search and counts, into s, the
// copied and <unk> tokens and the headline length.
func (t *task) decodeBeam(ctx context.Context, s *Summary, pairs []pair) ([]string, error) {
	opt := t.cfg.search()
	n := len(pairs)
	srcs := make([][]int, n)
	for i, p := range pairs {
		srcs[i] = p.src
	}
	best, err := decode.ByLength(srcs, chunkOf(opt.Beam), func(batch [][]int) ([][]int, error) {
		if ctx.Err() != nil {
			return nil, train.ErrInterrupted
		}
		return beams(t.decoder, batch, opt)
	})
	if err != nil {
		return nil, err
	}
	beam := make([]string, n)
	var copied, unk, words int
	for i, p := range pairs {
		toks := best[i]
		for _, id := range toks {
			switch {
			case id >= t.voc.Len():
				copied++
			case id == vocab.UnkID:
				unk++
			}
		}
		words += len(toks)
		beam[i] = headline(t.voc, toks, p.oovs)
	}
	if words > 0 {
		s.CopiedOOV, s.UnkFraction = float64(copied)/float64(words), float64(unk)/float64(words)
		s.WordsPerHead = float64(words) / float64(n)
	}
	return beam, nil
}

// samplesPage is samples.md: the sample headlines of every system beside the
// article and its reference.
func (s *Summary) samplesPage() report.SamplesPage {
	page := report.SamplesPage{Title: "Sample headlines: " + s.Model}
	page.Notes = append(page.Notes, fmt.Sprintf("Validation pairs spread evenly over the set. ROUGE-1/2/L F1 on the validation set: beam %.2f/%.2f/%.2f, greedy %.2f/%.2f/%.2f, lead-%d %.2f/%.2f/%.2f.",
		100*s.BeamRouge.Rouge1, 100*s.BeamRouge.Rouge2, 100*s.BeamRouge.RougeL, 100*s.Greedy.Rouge1, 100*s.Greedy.Rouge2, 100*s.Greedy.RougeL,
		s.Lead.N, 100*s.Lead.Valid.Rouge1, 100*s.Lead.Valid.Rouge2, 100*s.Lead.Valid.RougeL))
	var rules []string
	switch {
	case s.NoRepeatWords:
		rules = append(rules, "no word twice")
	case s.NoRepeatTrigram:
		rules = append(rules, "no repeated trigram")
	}
	if s.NoUnk {
		rules = append(rules, "no <unk>")
	}
	if len(rules) > 0 {
		page.Notes = append(page.Notes, fmt.Sprintf("Decoding (greedy and beam): %s.", strings.Join(rules, ", ")))
	}
	beam := fmt.Sprintf("beam %d, length penalty %g", s.Beam, s.LengthPenalty)
	for _, x := range s.Samples {
		page.Samples = append(page.Samples, report.Sample{Input: report.Labelled{Label: "article", Text: x.Article},
			Outputs: []report.Labelled{{Label: "reference", Text: x.Reference}, {Label: beam, Text: x.Beam},
				{Label: "greedy", Text: x.Greedy}, {Label: fmt.Sprintf("lead-%d", s.Lead.N), Text: x.Lead}}})
	}
	return page
}
