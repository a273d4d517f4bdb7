package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func ptr(x float64) *float64 { return &x }

// The corpus of sacreBLEU's README, with the scores its test suite expects
// (sacreBLEU test/test_bleu.py, test_corpus_bleu_cases, tolerance 1e-8).
var (
	readmeHyps = []string{
		"The dog bit the man.",
		"It wasn't surprising.",
		"The man had just bitten him.",
	}
	readmeRefs = [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
)

func TestSacreBLEUPublishedCorpusScores(t *testing.T) {
	cases := []struct {
		name string
		hyps []string
		opts BLEUOptions
		want float64
	}{
		{"defaults", readmeHyps, BLEUOptions{}, 48.530827},
		{"empty hypotheses", []string{"", "", ""}, BLEUOptions{}, 0},
		{"tokenize none", readmeHyps, BLEUOptions{Tokenizer: TokNone}, 49.1919566},
		{"smooth none", readmeHyps, BLEUOptions{Smooth: SmoothNone}, 48.530827},
	}
	for _, c := range cases {
		got, err := SacreBLEU(c.hyps, readmeRefs, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got.Score-c.want) > 1e-6 {
			t.Errorf("%s: BLEU = %.9f, want %.7f", c.name, got.Score, c.want)
		}
	}
}

// sacreBLEU 2.x test/test_bleu.py, test_max_ngram_order: the README corpus
// scored with n-gram orders 1 to 6, printed with two decimals.
func TestSacreBLEUMaxOrder(t *testing.T) {
	want := []string{"77.65", "60.50", "53.93", "48.53", "46.14", "43.28"}
	for i, w := range want {
		s, err := SacreBLEU(readmeHyps, readmeRefs, BLEUOptions{MaxOrder: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%.2f", s.Score); got != w {
			t.Errorf("max order %d: BLEU %s, want %s", i+1, got, w)
		}
	}
}

// rawCorpus is sacreBLEU's raw_corpus_bleu: no tokenisation, floor smoothing,
// effective order.
func rawCorpus(t *testing.T, hyps, refs []string, floor *float64) BLEUScore {
	t.Helper()
	s, err := SacreBLEU(hyps, [][]string{refs}, BLEUOptions{
		Tokenizer: TokNone, Smooth: SmoothFloor, SmoothValue: floor, EffectiveOrder: EffectiveOrderOn,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Cases of sacreBLEU 2.x's test/test_bleu.py (test_raw_bleu,
// test_effective_order, test_statistics, test_offset), scores on the 0-1
// scale there. The first case, with no match at all, scores 0 in sacreBLEU
// 2.x; sacreBLEU 1.x gave 0.0037991784.
func TestSacreBLEUPublishedRawScores(t *testing.T) {
	cases := []struct {
		hyps, refs []string
		floor      *float64
		want       float64
	}{
		{[]string{"this is a test", "another test"}, []string{"ref1", "ref2"}, ptr(0.01), 0},
		{[]string{"this is a test"}, []string{"this is a test"}, ptr(0.01), 1.0},
		{[]string{"this is a fest"}, []string{"this is a test"}, ptr(0.01), 0.223606797749979},
		{[]string{"test"}, []string{"a test"}, ptr(0.01), 0.3678794411714425},
		{[]string{"a test"}, []string{"a test"}, ptr(0.01), 1.0},
		{[]string{"a little test"}, []string{"a test"}, ptr(0.01), 0.03218297948685433},
		{[]string{"am I am a character sequence"}, []string{"I am a symbol string sequence a a"}, ptr(0), 0},
		{[]string{"am I am a character sequence"}, []string{"I am a symbol string sequence a a"}, nil, 0.1555722182},
	}
	for _, c := range cases {
		got := rawCorpus(t, c.hyps, c.refs, c.floor).Score / 100
		if math.Abs(got-c.want) > 1e-8 {
			t.Errorf("raw BLEU(%q, %q) = %.12g, want %.12g", c.hyps, c.refs, got, c.want)
		}
	}
	s := rawCorpus(t, []string{"am I am a character sequence"}, []string{"I am a symbol string sequence a a"}, nil)
	if want := []int{4, 2, 1, 0}; !slices.Equal(s.Counts, want) {
		t.Errorf("counts = %v, want %v", s.Counts, want)
	}
	if want := []int{6, 5, 4, 3}; !slices.Equal(s.Totals, want) {
		t.Errorf("totals = %v, want %v", s.Totals, want)
	}
}

// sacreBLEU test/test_bleu.py: test_scoring and test_degenerate_statistics.
func TestComputeBLEUPublished(t *testing.T) {
	s, err := ComputeBLEU(BLEUStats{Correct: []int{9, 7, 5, 3}, Total: []int{10, 8, 6, 4}, SysLen: 11, RefLen: 11},
		BLEUOptions{Smooth: SmoothNone})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Score/100-0.8375922397) > 1e-8 {
		t.Errorf("score = %.10f, want 0.8375922397", s.Score/100)
	}
	degenerate := []struct {
		correct, total []int
		sysLen, refLen int
		floor          float64
	}{
		{[]int{0, 0, 0, 0}, []int{4, 4, 2, 1}, 0, 1, 0},
		{[]int{0, 0, 0, 0}, []int{10, 11, 12, 0}, 14, 10, 0},
		{[]int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 0, 0, 0},
		{[]int{6, 5, 4, 0}, []int{6, 5, 4, 3}, 6, 6, 0},
		{[]int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 0, 0, 0.1},
		{[]int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 1, 5, 0.01},
	}
	for _, d := range degenerate {
		s, err := ComputeBLEU(BLEUStats{Correct: d.correct, Total: d.total, SysLen: d.sysLen, RefLen: d.refLen},
			BLEUOptions{Smooth: SmoothFloor, SmoothValue: ptr(d.floor)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Score != 0 {
			t.Errorf("degenerate %+v: score %v, want exactly 0", d, s.Score)
		}
	}
}

// The Romanian example of sacreBLEU test/test_sentence_bleu.py (tolerance 1e-3).
func TestSentenceBLEUPublished(t *testing.T) {
	const ref = "producţia de zahăr brut se exprimă în zahăr alb;"
	const sys = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"
	cases := []struct {
		opts BLEUOptions
		want float64
	}{
		{BLEUOptions{Smooth: SmoothExp}, 8.493},
		{BLEUOptions{Smooth: SmoothNone}, 0.0},
		{BLEUOptions{Smooth: SmoothFloor}, 4.51688},
		{BLEUOptions{Smooth: SmoothFloor, SmoothValue: ptr(0.1)}, 4.51688},
		{BLEUOptions{Smooth: SmoothFloor, SmoothValue: ptr(0.5)}, 10.10},
		{BLEUOptions{Smooth: SmoothAddK}, 14.882},
		{BLEUOptions{Smooth: SmoothAddK, SmoothValue: ptr(1)}, 14.882},
		{BLEUOptions{Smooth: SmoothAddK, SmoothValue: ptr(2)}, 21.389},
		{BLEUOptions{Smooth: SmoothExp, Tokenizer: TokNone}, 7.347},
	}
	for _, c := range cases {
		s, err := SentenceBLEU(sys, []string{ref}, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.Score-c.want) > 1e-3 {
			t.Errorf("%s: sentence BLEU = %.5f, want %.5f", s.Signature, s.Score, c.want)
		}
	}
	// Its second example: no match at all gives 0 whatever the smoothing.
	for _, sm := range []Smoothing{SmoothExp, SmoothNone, SmoothFloor, SmoothAddK} {
		s, err := SentenceBLEU("this is a cat", []string{"okay thanks"}, BLEUOptions{Smooth: sm})
		if err != nil {
			t.Fatal(err)
		}
		if s.Score != 0 {
			t.Errorf("smooth %v: score %v, want 0", sm, s.Score)
		}
	}
}

// TestSacreBLEUAgainstNLTK checks the whole pipeline (lowercasing,
// tokenisation, multiple references, brevity penalty) against NLTK's
// corpus_bleu on the same tokens, where the two definitions coincide (see
// scripts/fixtures_metrics.py).
func TestSacreBLEUAgainstNLTK(t *testing.T) {
	var fx struct {
		Cases []struct {
			Hyps       []string   `json:"hyps"`
			RefStreams [][]string `json:"ref_streams"`
			Lowercase  bool       `json:"lowercase"`
			Tokenize   string     `json:"tokenize"`
			Score      float64    `json:"score"`
		} `json:"cases"`
	}
	loadFixture(t, "sacrebleu_nltk.json", &fx)
	if len(fx.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range fx.Cases {
		opts := BLEUOptions{Lowercase: c.Lowercase}
		if c.Tokenize == "none" {
			opts.Tokenizer = TokNone
		}
		s, err := SacreBLEU(c.Hyps, c.RefStreams, opts)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if math.Abs(s.Score-c.Score) > 1e-9*c.Score {
			t.Errorf("case %d (%s): BLEU = %.15g, want %.15g", i, s.Signature, s.Score, c.Score)
		}
	}
}

func TestSacreBLEUReport(t *testing.T) {
	s, err := SacreBLEU(readmeHyps, readmeRefs, BLEUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp"; s.Signature != want {
		t.Errorf("signature %q, want %q", s.Signature, want)
	}
	// Hand count on the 13a tokens: the hypotheses have 6+4+7 = 17 tokens
	// ("wasn't" stays one token, the final periods split off); the closest
	// references have 6 (of 6 and 7), 5 (of 5 and 5) and 7 (of 6 and 7).
	if s.SysLen != 17 || s.RefLen != 18 || math.Abs(s.BP-math.Exp(1-18.0/17)) > 1e-15 {
		t.Errorf("lengths sys %d ref %d BP %v, want 17 18 exp(1-18/17)", s.SysLen, s.RefLen, s.BP)
	}
	str := s.String()
	if !strings.HasPrefix(str, "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp = 48.53 ") ||
		!strings.HasSuffix(str, "(BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)") {
		t.Errorf("String() = %q", str)
	}
	s, err = SentenceBLEU("a b", []string{"a b c", ""}, BLEUOptions{Lowercase: true, Smooth: SmoothFloor})
	if err != nil {
		t.Fatal(err)
	}
	if want := "nrefs:1|case:lc|eff:yes|tok:13a|smooth:floor[0.10]"; s.Signature != want {
		t.Errorf("signature %q, want %q", s.Signature, want)
	}
	s, err = SacreBLEU([]string{"a b", "c d"}, [][]string{{"a b", "c d"}, {"a", ""}}, BLEUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Signature, "nrefs:var|") {
		t.Errorf("signature %q, want variable reference count", s.Signature)
	}
}

func TestSacreBLEULowercase(t *testing.T) {
	mixed, err := SacreBLEU([]string{"THE CAT SAT ON THE MAT"}, [][]string{{"the cat sat on the mat"}}, BLEUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := SacreBLEU([]string{"THE CAT SAT ON THE MAT"}, [][]string{{"the cat sat on the mat"}}, BLEUOptions{Lowercase: true})
	if err != nil {
		t.Fatal(err)
	}
	if mixed.Score != 0 || math.Abs(lc.Score-100) > 1e-12 {
		t.Errorf("mixed case %v (want 0), lowercased %v (want 100)", mixed.Score, lc.Score)
	}
}

func TestSacreBLEUErrors(t *testing.T) {
	bad := []struct {
		name string
		hyps []string
		refs [][]string
		opts BLEUOptions
	}{
		{"no hypotheses", nil, [][]string{{}}, BLEUOptions{}},
		{"no streams", []string{"a"}, nil, BLEUOptions{}},
		{"short stream", []string{"a", "b"}, [][]string{{"a"}}, BLEUOptions{}},
		{"all refs empty", []string{"a"}, [][]string{{""}}, BLEUOptions{}},
		{"bad smoothing", []string{"a"}, [][]string{{"a"}}, BLEUOptions{Smooth: 9}},
		{"bad tokenizer", []string{"a"}, [][]string{{"a"}}, BLEUOptions{Tokenizer: 9}},
		{"negative value", []string{"a"}, [][]string{{"a"}}, BLEUOptions{Smooth: SmoothFloor, SmoothValue: ptr(-1)}},
		{"negative order", []string{"a"}, [][]string{{"a"}}, BLEUOptions{MaxOrder: -1}},
	}
	for _, b := range bad {
		if _, err := SacreBLEU(b.hyps, b.refs, b.opts); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	if _, err := ComputeBLEU(BLEUStats{Correct: []int{1}, Total: []int{1}}, BLEUOptions{}); err == nil {
		t.Error("ComputeBLEU with 1 order for MaxOrder 4: no error")
	}
	if _, err := ComputeBLEU(BLEUStats{Correct: []int{2, 0, 0, 0}, Total: []int{1, 0, 0, 0}}, BLEUOptions{}); err == nil {
		t.Error("ComputeBLEU with more matches than n-grams: no error")
	}
}
