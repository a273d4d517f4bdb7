package metrics

import (
	"math"
	"reflect"
	"testing"
)

func closeScore(t *testing.T, name string, got RougeScore, p, r, f float64) {
	t.Helper()
	if math.Abs(got.Precision-p) > 1e-12 || math.Abs(got.Recall-r) > 1e-12 || math.Abs(got.F1-f) > 1e-12 {
		t.Errorf("%s = %+v, want P %.6f R %.6f F %.6f", name, got, p, r, f)
	}
}

// The example of the rouge-score README: target "The quick brown fox jumps
// over the lazy dog" (9 tokens), prediction "The quick brown dog jumps on the
// log." (8 tokens). Computed by hand:
//
//	ROUGE-1: common unigrams the x2, quick, brown, jumps, dog = 6, so
//	         P = 6/8, R = 6/9, F = 12/17.
//	ROUGE-2: common bigrams "the quick", "quick brown" = 2 of 7 predicted and
//	         8 target bigrams: P = 2/7, R = 2/8, F = 4/15.
//	ROUGE-L: LCS "the quick brown jumps the" = 5: P = 5/8, R = 5/9, F = 10/17.
func TestRougeQuickBrownFox(t *testing.T) {
	r := Rouge("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log.")
	closeScore(t, "ROUGE-1", r.Rouge1, 6.0/8, 6.0/9, 12.0/17)
	closeScore(t, "ROUGE-2", r.Rouge2, 2.0/7, 2.0/8, 4.0/15)
	closeScore(t, "ROUGE-L", r.RougeL, 5.0/8, 5.0/9, 10.0/17)
}

// Lin (2004), section 3.1: against S1 "police killed the gunman", S2 "police
// kill the gunman" and S3 "the gunman kill police" have the same ROUGE-2 (one
// common bigram, "the gunman", of 3), but ROUGE-L tells them apart: LCS 3
// ("police the gunman") for S2 and 2 ("the gunman") for S3, of 4 words.
func TestRougeLinSection31(t *testing.T) {
	s1 := "police killed the gunman"
	for _, c := range []struct {
		cand string
		lcs  float64
	}{{"police kill the gunman", 3}, {"the gunman kill police", 2}} {
		r2, err := RougeN(s1, c.cand, 2)
		if err != nil {
			t.Fatal(err)
		}
		closeScore(t, "ROUGE-2 "+c.cand, r2, 1.0/3, 1.0/3, 1.0/3)
		closeScore(t, "ROUGE-L "+c.cand, RougeL(s1, c.cand), c.lcs/4, c.lcs/4, c.lcs/4)
	}
}

// Lin (2004), section 3.2: reference r = w1 w2 w3 w4 w5, candidate sentences
// c1 = w1 w2 w6 w7 w8 and c2 = w1 w3 w8 w9 w5. LCS(r, c1) = w1 w2 and
// LCS(r, c2) = w1 w3 w5, whose union w1 w2 w3 w5 gives 4 hits: recall 4/5,
// precision 4/10 (the candidate has 10 words), F1 = 2*0.8*0.4/1.2 = 8/15.
func TestRougeLsumLinSection32(t *testing.T) {
	got := RougeLsum("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5")
	closeScore(t, "ROUGE-Lsum", got, 4.0/10, 4.0/5, 8.0/15)
	// On one sentence each side it is sentence-level ROUGE-L.
	a, b := "the cat sat on the mat", "the cat was on a mat"
	l, ls := RougeL(a, b), RougeLsum(a, b)
	closeScore(t, "ROUGE-Lsum single sentence", ls, l.Precision, l.Recall, l.F1)
	// The LCS walk goes back from the sentence ends and takes a match as soon
	// as the tokens agree, so both LCS("a a", "a") pick the reference's second
	// "a": the union has one position, 1 hit of 2 reference and 2 candidate
	// words.
	closeScore(t, "ROUGE-Lsum tie-break", RougeLsum("a a", "a\na"), 0.5, 0.5, 0.5)
	// Hits are capped by token counts: the union of LCS("a b", "a b") and
	// LCS("a b", "b") is both positions, 2 hits, although "b" appears in
	// both candidate sentences.
	closeScore(t, "ROUGE-Lsum counts", RougeLsum("a b", "a b\nb"), 2.0/3, 1, 0.8)
	closeScore(t, "ROUGE-Lsum empty", RougeLsum("", "a"), 0, 0, 0)
}

func TestRougeTokenize(t *testing.T) {
	cases := map[string][]string{
		"Hello, World!":      {"hello", "world"},
		"don't stop-me now2": {"don", "t", "stop", "me", "now2"},
		"café naïve":         {"caf", "na", "ve"},
		"  ":                 nil,
		"İz":                 {"i", "z"}, // Python lowercases U+0130 to "i" + U+0307
	}
	for in, want := range cases {
		got := RougeTokenize(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("RougeTokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRougeEdgeCases(t *testing.T) {
	r := Rouge("", "something")
	closeScore(t, "empty reference ROUGE-1", r.Rouge1, 0, 0, 0)
	closeScore(t, "empty reference ROUGE-L", r.RougeL, 0, 0, 0)
	// One-word texts have no bigrams: counts are floored at 1, so 0 overlap.
	r = Rouge("word", "word")
	closeScore(t, "one word ROUGE-1", r.Rouge1, 1, 1, 1)
	closeScore(t, "one word ROUGE-2", r.Rouge2, 0, 0, 0)
	if _, err := RougeN("a", "a", 0); err == nil {
		t.Error("ROUGE-0: no error")
	}
	// Repeated n-grams are clipped: "the the the" vs "the cat": overlap 1.
	r1, _ := RougeN("the cat", "the the the", 1)
	closeScore(t, "clipping", r1, 1.0/3, 1.0/2, 0.4)
}

func TestMeanRouge(t *testing.T) {
	m, err := MeanRouge([]string{"a b", "c d"}, []string{"a b", "x y"})
	if err != nil {
		t.Fatal(err)
	}
	closeScore(t, "mean ROUGE-1", m.Rouge1, 0.5, 0.5, 0.5)
	if _, err := MeanRouge([]string{"a"}, nil); err == nil {
		t.Error("mismatch: no error")
	}
	if _, err := MeanRouge(nil, nil); err == nil {
		t.Error("empty: no error")
	}
}
