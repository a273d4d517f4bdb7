package demo

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/triadml/triad/internal/atomicfile"
	"github.com/triadml/triad/metrics/report"
	"github.com/triadml/triad/train"
)

// Example is a held-out date and what the model wrote for it.
type Example struct {
	Source     string `json:"source"`
	Target     string `json:"target"`
	Prediction string `json:"prediction"`     // greedy decoding
	Beam       string `json:"beam,omitempty"` // beam search, where it ran
}

// Results is what results.json holds: the held-out accuracy of the trained model
// with greedy decoding and with beam search, examples, and the attention heatmaps
// drawn.
type Results struct {
	ExactMatch     float64   `json:"exact_match"`
	BeamExactMatch float64   `json:"beam_exact_match"`
	BeamEvaluated  int       `json:"beam_evaluated"`
	Beam           int       `json:"beam"`
	TestSize       int       `json:"test_size"`
	Steps          int       `json:"steps"`
	Seconds        float64   `json:"seconds"`
	TrainSeconds   float64   `json:"train_seconds"`
	Threads        int       `json:"threads"`
	Examples       []Example `json:"examples"`
	Heatmaps       []string  `json:"heatmaps"` // file names in the run directory
}

// heatmapSources are the sources whose attention the demo draws.
var heatmapSources = []string{"saturday, 28 nov. 2026", "Samstag, 28. November 2026", "28/11/2026"}

// report decodes the held-out set, greedily and (its first BeamEval dates) with
// beam search, draws the attention heatmaps, writes results.json and logs the
// figures, examples and errors.
func (t *task) report(s *train.Session, sum *train.Summary, start time.Time) (*Results, error) {
	greedy, err := t.greedyTest()
	if err != nil {
		return nil, err
	}
	res := &Results{Beam: t.cfg.Beam, TestSize: len(t.test), Steps: sum.Steps, TrainSeconds: sum.Seconds, Threads: runtime.GOMAXPROCS(0)}
	exact := 0
	var errs []Example
	for i, got := range greedy {
		if got == t.test[i].Target {
			exact++
		} else if len(errs) < 5 {
			errs = append(errs, Example{Source: t.test[i].Source, Target: t.test[i].Target, Prediction: got})
		}
	}
	res.ExactMatch = float64(exact) / float64(len(greedy))
	beamExact := 0
	var beamDiffs []Example
	beamSrcs := make([]string, min(t.cfg.BeamEval, len(t.test)))
	for i := range beamSrcs {
		beamSrcs[i] = t.test[i].Source
	}
	beams, err := t.beamSearchAll(beamSrcs, t.cfg.Beam)
	if err != nil {
		return nil, err
	}
	for i, got := range beams {
		if got == t.test[i].Target {
			beamExact++
		}
		res.BeamEvaluated++
		ex := Example{Source: t.test[i].Source, Target: t.test[i].Target, Prediction: greedy[i], Beam: got}
		if got != greedy[i] && len(beamDiffs) < 3 {
			beamDiffs = append(beamDiffs, ex)
		}
		if i < t.cfg.Examples {
			res.Examples = append(res.Examples, ex)
		}
	}
	if res.BeamEvaluated > 0 {
		res.BeamExactMatch = float64(beamExact) / float64(res.BeamEvaluated)
	}
	if s.Root() {
		if res.Heatmaps, err = t.heatmaps(s); err != nil {
			return nil, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if s.Root() {
		if err := train.WriteJSON(s.Path("results.json"), res); err != nil {
			return nil, err
		}
	}
	s.Logf("demo: exact match %.2f%% greedy on %d held-out dates, %.2f%% with beam %d on the first %d; %d steps, %.0f s training (%.0f s in all), %d threads",
		100*res.ExactMatch, len(t.test), 100*res.BeamExactMatch, t.cfg.Beam, res.BeamEvaluated, sum.Steps, sum.Seconds, res.Seconds, res.Threads)
	for _, ex := range res.Examples {
		mark := "ok"
		if ex.Prediction != ex.Target {
			mark = "WRONG, want " + ex.Target
		}
		s.Logf("  %-40q -> %s  (%s)", ex.Source, ex.Prediction, mark)
	}
	for _, ex := range errs {
		s.Logf("  error: %q -> %s, want %s", ex.Source, ex.Prediction, ex.Target)
	}
	for _, ex := range beamDiffs {
		s.Logf("  beam and greedy differ: %q -> beam %s, greedy %s, want %s", ex.Source, ex.Beam, ex.Prediction, ex.Target)
	}
	s.Logf("demo: attention heatmaps %s in %s", strings.Join(res.Heatmaps, ", "), s.Dir)
	return res, nil
}

// heatmaps draws the attention of greedy decoding over each of heatmapSources
// into the run directory and returns the files' names.
func (t *task) heatmaps(s *train.Session) ([]string, error) {
	var names []string
	for i, src := range heatmapSources {
		h, err := t.greedy([]string{src})
		if err != nil {
			return nil, err
		}
		name := "attention.png"
		if i > 0 {
			name = fmt.Sprintf("attention_%d.png", i+1)
		}
		got := t.tgt.decode(h[0].Tokens)
		outLabels := characters(got)
		if h[0].Finished {
			outLabels = append(outLabels, "</s>")
		}
		png, err := report.HeatmapPNG(h[0].Weights, characters(src), outLabels, "")
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(s.Path(name), png, 0o644); err != nil {
			return nil, err
		}
		if err := s.Summaries().Image("attention/"+strings.TrimSuffix(name, ".png"), t.cfg.Common.TotalSteps(StepsPerEpoch), png); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// characters splits s into its characters, one label each.
func characters(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}
