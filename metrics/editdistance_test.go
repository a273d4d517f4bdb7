package metrics

import (
	"math"
	"testing"
)

func TestEditDistanceAgainstNLTK(t *testing.T) {
	var fx struct {
		Cases []struct {
			A, B     string
			Distance int
		} `json:"cases"`
	}
	loadFixture(t, "edit_distance.json", &fx)
	if len(fx.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range fx.Cases {
		a, b := []rune(c.A), []rune(c.B)
		if d := EditDistance(a, b); d != c.Distance {
			t.Errorf("EditDistance(%q, %q) = %d, NLTK %d", c.A, c.B, d, c.Distance)
		}
		al := Align(a, b)
		if al.Errors() != c.Distance || al.RefLen() != len(a) || al.HypLen() != len(b) {
			t.Errorf("Align(%q, %q) = %+v: errors %d (want %d), lengths %d/%d (want %d/%d)",
				c.A, c.B, al, al.Errors(), c.Distance, al.RefLen(), al.HypLen(), len(a), len(b))
		}
	}
}

func TestAlignHand(t *testing.T) {
	cases := []struct {
		ref, hyp string
		want     Alignment
	}{
		// kitten -> sitting: k/s and e/i substituted, g inserted (the
		// textbook distance 3).
		{"kitten", "sitting", Alignment{Hits: 4, Substitutions: 2, Insertions: 1}},
		{"abcd", "acd", Alignment{Hits: 3, Deletions: 1}},
		{"abcd", "axcde", Alignment{Hits: 3, Substitutions: 1, Insertions: 1}},
		{"", "ab", Alignment{Insertions: 2}},
		{"ab", "", Alignment{Deletions: 2}},
		{"", "", Alignment{}},
	}
	for _, c := range cases {
		if got := Align([]rune(c.ref), []rune(c.hyp)); got != c.want {
			t.Errorf("Align(%q, %q) = %+v, want %+v", c.ref, c.hyp, got, c.want)
		}
	}
}

func TestWERAndCER(t *testing.T) {
	// 2 references of 4 and 2 words; "b" deleted and "e" substituted by "x":
	// 2 errors over 6 reference words.
	w, err := WER([]string{"a b c d", "e f"}, []string{"a c d", "x  f"})
	if err != nil || math.Abs(w-2.0/6) > 1e-15 {
		t.Errorf("WER = %v, %v; want 1/3", w, err)
	}
	// Insertions can push the rate past 1.
	w, err = WER([]string{"a"}, []string{"b c d"})
	if err != nil || w != 3 {
		t.Errorf("WER = %v, %v; want 3", w, err)
	}
	c, err := CER([]string{"héllo wörld"}, []string{"hello world"})
	if err != nil || math.Abs(c-2.0/11) > 1e-15 {
		t.Errorf("CER = %v, %v; want 2/11", c, err)
	}
	if _, err := WER([]string{""}, []string{"a"}); err == nil {
		t.Error("empty references: no error")
	}
	if _, err := CER([]string{"a"}, nil); err == nil {
		t.Error("mismatch: no error")
	}
	rate, al, err := ErrorRate([][]int{{1, 2, 3}}, [][]int{{1, 3, 3, 4}})
	if err != nil || al != (Alignment{Hits: 2, Substitutions: 1, Insertions: 1}) || math.Abs(rate-2.0/3) > 1e-15 {
		t.Errorf("ErrorRate = %v %+v %v", rate, al, err)
	}
}
