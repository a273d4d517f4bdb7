package metrics

import (
	"math"
	"testing"
)

// TestCorpusBLEUAgainstNLTK compares with nltk.translate.bleu_score.corpus_bleu
// (NLTK 3.8) on random tokenised corpora with one to three references, short
// hypotheses, orders without matches and custom weights, plus hand edge cases
// (scripts/fixtures_metrics.py).
func TestCorpusBLEUAgainstNLTK(t *testing.T) {
	var fx struct {
		Cases []struct {
			Refs    [][][]string `json:"refs"`
			Hyps    [][]string   `json:"hyps"`
			Weights []float64    `json:"weights"`
			BLEU    float64      `json:"bleu"`
		} `json:"cases"`
	}
	loadFixture(t, "bleu_nltk.json", &fx)
	if len(fx.Cases) < 50 {
		t.Fatalf("fixture has %d cases", len(fx.Cases))
	}
	var zeros, tiny, ordinary int
	for i, c := range fx.Cases {
		got, err := CorpusBLEUWeights(c.Refs, c.Hyps, c.Weights)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		switch {
		case c.BLEU == 0:
			zeros++
			if got != 0 {
				t.Errorf("case %d: BLEU %g, want exactly 0", i, got)
			}
			continue
		case c.BLEU < 1e-50:
			tiny++
		default:
			ordinary++
		}
		if rel := math.Abs(got-c.BLEU) / c.BLEU; rel > 1e-9 {
			t.Errorf("case %d: BLEU %.17g, NLTK %.17g (relative error %.2g)", i, got, c.BLEU, rel)
		}
	}
	if zeros == 0 || tiny == 0 || ordinary < 20 {
		t.Errorf("fixture does not cover every regime: %d zero, %d tiny, %d ordinary", zeros, tiny, ordinary)
	}
}

func TestCorpusBLEUDefaultsAndErrors(t *testing.T) {
	refs := [][][]string{{{"the", "cat", "sat", "on", "the", "mat"}}}
	hyps := [][]string{{"the", "cat", "sat", "on", "the", "mat"}}
	got, err := CorpusBLEU(refs, hyps)
	if err != nil || math.Abs(got-1) > 1e-15 {
		t.Errorf("identical sentences: %v, %v; want 1", got, err)
	}
	// Hand computation: hypothesis "the cat sat" (3 words) against a 6-word
	// reference: p1 = 3/3, p2 = 2/2, p3 = 1/1, p4 = 0/max(1, 0) -> NLTK's
	// 2.2250738585072014e-308; BP = exp(1 - 6/3).
	got, err = CorpusBLEU(refs, [][]string{{"the", "cat", "sat"}})
	if err != nil {
		t.Fatal(err)
	}
	want := math.Exp(1-2) * math.Exp(0.25*math.Log(0x1p-1022))
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("short hypothesis: %g, want %g", got, want)
	}
	if _, err := CorpusBLEU(refs, nil); err == nil {
		t.Error("length mismatch: no error")
	}
	if _, err := CorpusBLEU([][][]string{{}}, [][]string{{"a"}}); err == nil {
		t.Error("no reference: no error")
	}
	if _, err := CorpusBLEUWeights(refs, hyps, nil); err == nil {
		t.Error("no weights: no error")
	}
	if _, err := CorpusBLEUWeights(refs, hyps, []float64{math.NaN()}); err == nil {
		t.Error("NaN weight: no error")
	}
}

func TestExactSum(t *testing.T) {
	// 1 + 1e100 + 1 - 1e100 is 2 exactly; naive left-to-right addition gives 0.
	if got := exactSum([]float64{1, 1e100, 1, -1e100}); got != 2 {
		t.Errorf("exactSum = %v, want 2", got)
	}
	if got := exactSum(nil); got != 0 {
		t.Errorf("exactSum(nil) = %v", got)
	}
}
