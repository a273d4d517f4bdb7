package solvers

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func checkLRs(t *testing.T, name string, s Schedule, want map[int]float64) {
	t.Helper()
	for step, w := range want {
		if got := s.LR(step); !closeTo(got, w, 1e-14, 0) {
			t.Errorf("%s.LR(%d) = %.17g, want %.17g", name, step, got, w)
		}
	}
}

func TestSchedules(t *testing.T) {
	c, err := NewConstant(0.3)
	mustT(t, err)
	checkLRs(t, "Constant", c, map[int]float64{0: 0.3, 1000: 0.3})

	sd, err := NewStepDecay(0.1, 0.5, 2)
	mustT(t, err)
	checkLRs(t, "StepDecay", sd, map[int]float64{-3: 0.1, 0: 0.1, 1: 0.1, 2: 0.05, 3: 0.05, 4: 0.025, 5: 0.025, 6: 0.0125})

	ex, err := NewExponential(2, 0.5)
	mustT(t, err)
	checkLRs(t, "Exponential", ex, map[int]float64{0: 2, 1: 1, 3: 0.25})

	// Warm-up over 4 steps to 1, cosine down to 0.1 at step 12: halfway through
	// the cosine (step 8) the rate is 0.1 + 0.9/2.
	wc, err := NewWarmupCosine(1, 0.1, 4, 12)
	mustT(t, err)
	checkLRs(t, "WarmupCosine", wc, map[int]float64{0: 0.25, 1: 0.5, 3: 1, 4: 1, 8: 0.55, 12: 0.1, 1000: 0.1,
		6: 0.1 + 0.9*(1+math.Cos(math.Pi/4))/2})
	for step := 4; step < 13; step++ {
		if wc.LR(step+1) > wc.LR(step) {
			t.Fatalf("cosine rises at step %d", step)
		}
	}
	nw, err := NewWarmupCosine(1, 0, 0, 10)
	mustT(t, err)
	checkLRs(t, "WarmupCosine without warm-up", nw, map[int]float64{0: 1, 5: 0.5, 10: 0})

	// Vaswani et al. 2017 with d_model 512 and 4000 warm-up steps: the peak at
	// step_num 4000 is 512^-0.5 * 4000^-0.5; before it the rate is linear in
	// step_num, after it proportional to step_num^-0.5.
	nm, err := NewNoam(512, 4000, 1)
	mustT(t, err)
	peak := 1 / math.Sqrt(512*4000)
	checkLRs(t, "Noam", nm, map[int]float64{
		3999:  peak,
		0:     peak / 4000,
		1999:  peak / 2,
		15999: peak / 2,
	})
	if nm.LR(3998) >= peak || nm.LR(4000) >= peak {
		t.Error("Noam does not peak at step_num = warmup")
	}
	n2, err := NewNoam(512, 4000, 2)
	mustT(t, err)
	checkLRs(t, "Noam factor 2", n2, map[int]float64{3999: 2 * peak})

	bad := []error{
		second(NewConstant(-1)),
		second(NewStepDecay(0.1, 0.5, 0)),
		second(NewStepDecay(0.1, math.Inf(1), 1)),
		second(NewExponential(math.NaN(), 0.5)),
		second(NewWarmupCosine(1, 2, 0, 10)),
		second(NewWarmupCosine(1, 0, 10, 10)),
		second(NewWarmupCosine(1, 0, -1, 10)),
		second(NewNoam(0, 10, 1)),
		second(NewNoam(10, 0, 1)),
		second(NewNoam(10, 10, -1)),
	}
	for i, e := range bad {
		if e == nil {
			t.Errorf("bad schedule %d accepted", i)
		}
	}
}

func TestPlateau(t *testing.T) {
	cfg := DefaultPlateauConfig()
	cfg.Patience, cfg.Factor, cfg.Cooldown, cfg.MinLR = 1, 0.5, 1, 0.3
	p, err := NewPlateau(1, cfg)
	mustT(t, err)
	// 1 improves on +Inf; NaN and 1 do not improve on 1 (the second bad one is
	// beyond patience 1: halve); 5 falls in the cooldown; 5, 5: halve again, to
	// 0.25 floored at 0.3; later reductions are below eps and skipped.
	metrics := []float64{1, math.NaN(), 1, 5, 5, 5, 0.5, 9, 9, 9, 9}
	want := []float64{1, 1, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}
	for i, m := range metrics {
		if got := p.Observe(m); got != want[i] {
			t.Fatalf("observation %d (%v): lr %v, want %v", i, m, got, want[i])
		}
	}
	if p.LR() != 0.3 || p.State().Best != 0.5 || p.State().Observations != len(metrics) {
		t.Fatalf("state %+v", p.State())
	}

	// Max mode with an absolute threshold: 1.05 is not above 1 + 0.1.
	mx := DefaultPlateauConfig()
	mx.Mode, mx.ThresholdMode, mx.Threshold, mx.Patience = "max", "abs", 0.1, 0
	q, err := NewPlateau(1, mx)
	mustT(t, err)
	if q.Observe(1) != 1 || q.Observe(1.05) != 0.1 || q.Observe(1.2) != 0.1 {
		t.Fatalf("max mode: state %+v", q.State())
	}

	for _, bad := range []PlateauConfig{
		{Mode: "down", ThresholdMode: "rel", Factor: 0.1},
		{Mode: "min", ThresholdMode: "pct", Factor: 0.1},
		{Mode: "min", ThresholdMode: "rel", Factor: 1},
		{Mode: "min", ThresholdMode: "rel", Factor: 0.1, Patience: -1},
		{Mode: "min", ThresholdMode: "rel", Factor: 0.1, MinLR: -1},
	} {
		if _, err := NewPlateau(1, bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// TestPlateauStateJSON: the state survives JSON, including the infinite best
// of a fresh Plateau, and a resumed Plateau continues identically.
func TestPlateauStateJSON(t *testing.T) {
	cfg := DefaultPlateauConfig()
	cfg.Patience, cfg.Cooldown = 2, 1
	metrics := []float64{3, 2, 2.5, 2.4, 2.3, 2.2, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6}
	for _, mode := range []string{"min", "max"} {
		cfg.Mode = mode
		whole, err := NewPlateau(0.1, cfg)
		mustT(t, err)
		var wantLRs []float64
		for _, m := range metrics {
			wantLRs = append(wantLRs, whole.Observe(m))
		}
		for cut := 0; cut < len(metrics); cut++ {
			a, err := NewPlateau(0.1, cfg)
			mustT(t, err)
			for _, m := range metrics[:cut] {
				a.Observe(m)
			}
			data, err := json.Marshal(a.State())
			mustT(t, err)
			if cut == 0 && !strings.Contains(string(data), `"best":"inf"`) && !strings.Contains(string(data), `"best":"-inf"`) {
				t.Fatalf("fresh state JSON %s", data)
			}
			var st PlateauState
			mustT(t, json.Unmarshal(data, &st))
			if st != a.State() {
				t.Fatalf("state %+v came back as %+v", a.State(), st)
			}
			b, err := NewPlateau(123, cfg)
			mustT(t, err)
			mustT(t, b.LoadState(st))
			for i := cut; i < len(metrics); i++ {
				if got := b.Observe(metrics[i]); got != wantLRs[i] {
					t.Fatalf("%s, resumed after %d: observation %d lr %v, want %v", mode, cut, i, got, wantLRs[i])
				}
			}
		}
	}
	var st PlateauState
	for _, bad := range []string{`{"lr":0.1,"best":"huge"}`, `{"lr":0.1}`, `{"lr":0.1,"best":null}`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &st); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	p, err := NewPlateau(0.1, DefaultPlateauConfig())
	mustT(t, err)
	if err := p.LoadState(PlateauState{LR: -1}); err == nil {
		t.Error("negative rate accepted")
	}
	if err := p.LoadState(PlateauState{LR: 1, NumBad: -1}); err == nil {
		t.Error("negative counter accepted")
	}
}
