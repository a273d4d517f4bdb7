package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestAccuracy(t *testing.T) {
	a, err := Accuracy([]int{1, 2, 3, 4}, []int{1, 2, 0, 4})
	if err != nil || a != 0.75 {
		t.Errorf("Accuracy = %v, %v; want 0.75", a, err)
	}
	a, err = Accuracy([]string{"x", "y"}, []string{"x", "x"})
	if err != nil || a != 0.5 {
		t.Errorf("Accuracy = %v, %v; want 0.5", a, err)
	}
	if _, err := Accuracy([]int{1}, []int{1, 2}); err == nil {
		t.Error("length mismatch: no error")
	}
	if _, err := Accuracy[int](nil, nil); err == nil {
		t.Error("empty: no error")
	}
}

func TestAccuracyFromLogits(t *testing.T) {
	rows := [][]float32{
		{0.1, 2.0, -1}, // 1
		{3, 3, 0},      // tie: first, 0
		{-5, -4, -4.5}, // 1
		{0, 0, 0.0001}, // 2
	}
	pred, err := ArgmaxRows(rows)
	if err != nil || !slices.Equal(pred, []int{1, 0, 1, 2}) {
		t.Errorf("ArgmaxRows = %v, %v", pred, err)
	}
	a, err := AccuracyFromLogits(rows, []int{1, 0, 0, 2})
	if err != nil || a != 0.75 {
		t.Errorf("AccuracyFromLogits = %v, %v; want 0.75", a, err)
	}
	flat := []float64{1, 0, 0, 1, 0.5, 0.2}
	a, err = AccuracyFromFlatLogits(flat, 2, []int{0, 1, 1})
	if err != nil || math.Abs(a-2.0/3) > 1e-15 {
		t.Errorf("AccuracyFromFlatLogits = %v, %v; want 2/3", a, err)
	}
	if _, err := AccuracyFromFlatLogits(flat, 4, []int{0, 1, 1}); err == nil {
		t.Error("bad flat size: no error")
	}
	if _, err := AccuracyFromLogits([][]float64{{1, 2}, {1}}, []int{0, 0}); err == nil {
		t.Error("ragged rows: no error")
	}
	if _, err := AccuracyFromLogits([][]float64{{1, math.NaN()}}, []int{0}); err == nil {
		t.Error("NaN logit: no error")
	}
	if _, err := Argmax([]float64{}); err == nil {
		t.Error("empty row: no error")
	}
}

func TestPerplexity(t *testing.T) {
	// A uniform model over 10 classes has NLL ln 10 per token: perplexity 10.
	p, err := Perplexity(math.Log(10))
	if err != nil || math.Abs(p-10) > 1e-12 {
		t.Errorf("Perplexity(ln 10) = %v, %v", p, err)
	}
	p, err = PerplexityFromSum(4*math.Log(2), 4)
	if err != nil || math.Abs(p-2) > 1e-12 {
		t.Errorf("PerplexityFromSum = %v, %v; want 2", p, err)
	}
	for _, bad := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		if _, err := Perplexity(bad); err == nil {
			t.Errorf("Perplexity(%v): no error", bad)
		}
	}
	if _, err := PerplexityFromSum(1, 0); err == nil {
		t.Error("zero tokens: no error")
	}
}

// Hand example: truth 0 0 1 1 2 2 2, predictions 0 1 1 1 2 0 2.
//
//	class 0: tp 1, predicted 2, support 2 -> P 1/2, R 1/2, F1 1/2
//	class 1: tp 2, predicted 3, support 2 -> P 2/3, R 1,   F1 4/5
//	class 2: tp 2, predicted 2, support 3 -> P 1,   R 2/3, F1 4/5
//	accuracy 5/7, macro F1 (1/2 + 4/5 + 4/5)/3 = 0.7
func TestConfusionMatrix(t *testing.T) {
	c, err := NewConfusionMatrix(3, "cat", "dog", "bird")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddBatch([]int{0, 0, 1, 1, 2, 2}, []int{0, 1, 1, 1, 2, 0}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(2, 2); err != nil {
		t.Fatal(err)
	}
	want := [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 2}}
	for i := range want {
		if !slices.Equal(c.Counts[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i, c.Counts[i], want[i])
		}
	}
	stats := []ClassStats{{0.5, 0.5, 0.5, 2}, {2.0 / 3, 1, 0.8, 2}, {1, 2.0 / 3, 0.8, 3}}
	for k, s := range c.Classes() {
		w := stats[k]
		if math.Abs(s.Precision-w.Precision) > 1e-15 || math.Abs(s.Recall-w.Recall) > 1e-15 ||
			math.Abs(s.F1-w.F1) > 1e-15 || s.Support != w.Support {
			t.Errorf("class %d = %+v, want %+v", k, s, w)
		}
	}
	if c.Total() != 7 || math.Abs(c.Accuracy()-5.0/7) > 1e-15 || math.Abs(c.MacroF1()-0.7) > 1e-15 {
		t.Errorf("total %d accuracy %v macro F1 %v", c.Total(), c.Accuracy(), c.MacroF1())
	}
	s := c.String()
	for _, frag := range []string{"true\\pred", "cat", "bird", "0.6667", "accuracy 0.7143 (7 examples), macro F1 0.7000"} {
		if !strings.Contains(s, frag) {
			t.Errorf("String() lacks %q:\n%s", frag, s)
		}
	}
	// Errors leave the counts untouched.
	if err := c.AddBatch([]int{0, 3}, []int{0, 0}); err == nil || c.Total() != 7 {
		t.Errorf("out-of-range batch: err %v, total %d", err, c.Total())
	}
	if err := c.Add(-1, 0); err == nil {
		t.Error("negative class: no error")
	}
	if _, err := NewConfusionMatrix(0); err == nil {
		t.Error("0 classes: no error")
	}
	if _, err := NewConfusionMatrix(2, "a"); err == nil {
		t.Error("label count mismatch: no error")
	}
	// A class never predicted nor present has all zeros.
	e, _ := NewConfusionMatrix(2)
	_ = e.Add(0, 0)
	if s := e.Class(1); s != (ClassStats{}) {
		t.Errorf("empty class = %+v", s)
	}
}
