package solvers

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

func sortedKeys(m map[string]*tensor.Dense) []string { return slices.Sorted(maps.Keys(m)) }

// sameBits reports whether two float slices are bitwise equal.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestStateRoundTrip: 3 steps, save, load into a new solver, 3 more steps equals
// 6 uninterrupted steps bitwise, for every solver variant and both dtypes, with
// the clipping and learning-rate changes of each case.
func TestStateRoundTrip(t *testing.T) {
	in := randomInputs(3)
	for _, dtype := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range refCases() {
			t.Run(c.name+"_"+dtype.String(), func(t *testing.T) {
				run := func(s Solver, ps []*graph.Param, from, to int) {
					for step := from; step < to; step++ {
						setGrads(ps, in.grads[step])
						if c.lrs != nil {
							s.SetLR(c.lrs[step])
						}
						if c.clip != nil && c.clip.kind == "norm" {
							_, err := ClipGradNorm(ps, c.clip.max, c.clip.typ)
							mustT(t, err)
						} else if c.clip != nil {
							mustT(t, ClipGradValue(ps, c.clip.max))
						}
						mustT(t, s.Step(ps))
					}
				}
				whole, err := c.make()
				mustT(t, err)
				psWhole := makeParams(dtype, in.values)
				run(whole, psWhole, 0, 6)

				first, err := c.make()
				mustT(t, err)
				ps := makeParams(dtype, in.values)
				run(first, ps, 0, 3)
				saved := first.State()
				// The saved state is a copy: further steps must not change it.
				before := map[string][]float64{}
				for k, v := range saved {
					before[k] = graph.Float64s(v)
				}
				run(first, makeParams(dtype, in.values), 0, 1)
				for k, v := range saved {
					if !sameBits(graph.Float64s(v), before[k]) {
						t.Fatalf("State()[%q] changed after a later step", k)
					}
				}

				second, err := c.make()
				mustT(t, err)
				mustT(t, second.LoadState(saved))
				run(second, ps, 3, 6)

				for i := range ps {
					if !sameBits(graph.Float64s(ps[i].Value), graph.Float64s(psWhole[i].Value)) {
						t.Fatalf("%s after resuming differs from the uninterrupted run", ps[i].Name)
					}
				}
				a, b := second.State(), whole.State()
				if strings.Join(sortedKeys(a), ",") != strings.Join(sortedKeys(b), ",") {
					t.Fatalf("state keys %v, uninterrupted %v", sortedKeys(a), sortedKeys(b))
				}
				for k := range a {
					if a[k].Dtype() != b[k].Dtype() || !slices.Equal(a[k].Shape(), b[k].Shape()) ||
						!sameBits(graph.Float64s(a[k]), graph.Float64s(b[k])) {
						t.Fatalf("state %q differs from the uninterrupted run", k)
					}
				}
				if got := graph.Float64s(a["fc.bias.step"]); len(got) != 1 || got[0] != 6 {
					t.Fatalf("fc.bias.step = %v, want [6]", got)
				}
			})
		}
	}
}

// TestStateNames checks the buffer names of each solver configuration.
func TestStateNames(t *testing.T) {
	cases := []struct {
		make func() (Solver, error)
		want string
	}{
		{func() (Solver, error) { return NewSGD(SGDConfig{LR: 1}) }, "step"},
		{func() (Solver, error) { return NewSGD(SGDConfig{LR: 1, Momentum: 0.9}) }, "momentum_buffer,step"},
		{func() (Solver, error) { return NewAdam(DefaultAdamConfig()) }, "exp_avg,exp_avg_sq,step"},
		{func() (Solver, error) {
			c := DefaultAdamWConfig()
			c.AMSGrad = true
			return NewAdamW(c)
		}, "exp_avg,exp_avg_sq,max_exp_avg_sq,step"},
		{func() (Solver, error) { return NewRMSProp(DefaultRMSPropConfig()) }, "square_avg,step"},
		{func() (Solver, error) {
			return NewRMSProp(RMSPropConfig{LR: 1, Alpha: 0.9, Momentum: 0.9, Centered: true})
		}, "grad_avg,momentum_buffer,square_avg,step"},
		{func() (Solver, error) { return NewAdaGrad(DefaultAdaGradConfig()) }, "step,sum"},
	}
	in := randomInputs(4)
	for _, c := range cases {
		s, err := c.make()
		mustT(t, err)
		ps := makeParams(tensor.Float32, in.values)
		if n := len(s.State()); n != 0 {
			t.Fatalf("fresh solver has %d state entries", n)
		}
		setGrads(ps, in.grads[0])
		mustT(t, s.Step(ps[:1]))
		var bufs []string
		for _, k := range sortedKeys(s.State()) {
			if !strings.HasPrefix(k, "fc.weight.") {
				t.Fatalf("unexpected key %q", k)
			}
			bufs = append(bufs, strings.TrimPrefix(k, "fc.weight."))
			v := s.State()[k]
			if strings.HasSuffix(k, ".step") {
				if v.Dtype() != tensor.Float64 || !slices.Equal(v.Shape(), []int{1}) {
					t.Fatalf("%s is %v %v, want float64 (1)", k, v.Dtype(), v.Shape())
				}
			} else if v.Dtype() != tensor.Float32 || !slices.Equal(v.Shape(), []int{3, 4}) {
				t.Fatalf("%s is %v %v, want float32 (3, 4)", k, v.Dtype(), v.Shape())
			}
		}
		if got := strings.Join(bufs, ","); got != c.want {
			t.Errorf("%T buffers %s, want %s", s, got, c.want)
		}
	}
}

// TestLazyStatePerParameter: a parameter first stepped later has its own step
// counter, so its bias correction starts at t = 1.
func TestLazyStatePerParameter(t *testing.T) {
	in := randomInputs(5)
	s, err := NewAdam(DefaultAdamConfig())
	mustT(t, err)
	ps := makeParams(tensor.Float64, in.values)
	for step := 0; step < 3; step++ {
		setGrads(ps, in.grads[step])
		mustT(t, s.Step(ps[:2]))
	}
	// A fresh solver stepping emb.weight alone must agree with the late start.
	fresh, err := NewAdam(DefaultAdamConfig())
	mustT(t, err)
	other := makeParams(tensor.Float64, in.values)
	setGrads(ps, in.grads[3])
	setGrads(other, in.grads[3])
	mustT(t, s.Step(ps))
	mustT(t, fresh.Step(other[2:]))
	if !sameBits(graph.Float64s(ps[2].Value), graph.Float64s(other[2].Value)) {
		t.Fatal("a late parameter does not start its own step count")
	}
	st := s.State()
	if graph.Float64s(st["fc.weight.step"])[0] != 4 || graph.Float64s(st["emb.weight.step"])[0] != 1 {
		t.Fatalf("steps %v %v, want 4 and 1", graph.Float64s(st["fc.weight.step"]), graph.Float64s(st["emb.weight.step"]))
	}
}

// savedAdamState returns the state of an AMSGrad Adam after one float64 step.
func savedAdamState(t *testing.T) (map[string]*tensor.Dense, func() *Adam) {
	t.Helper()
	mk := func() *Adam {
		c := DefaultAdamConfig()
		c.AMSGrad = true
		s, err := NewAdam(c)
		mustT(t, err)
		return s
	}
	in := randomInputs(6)
	s := mk()
	ps := makeParams(tensor.Float64, in.values)
	setGrads(ps, in.grads[0])
	mustT(t, s.Step(ps))
	return s.State(), mk
}

func TestLoadStateErrors(t *testing.T) {
	base, mk := savedAdamState(t)
	edit := func(f func(m map[string]*tensor.Dense)) map[string]*tensor.Dense {
		m := map[string]*tensor.Dense{}
		for k, v := range base {
			m[k] = v
		}
		f(m)
		return m
	}
	cases := []struct {
		name string
		st   map[string]*tensor.Dense
		want string // in the error message
	}{
		{"unknown buffer", edit(func(m map[string]*tensor.Dense) {
			m["fc.bias.momentum_buffer"] = m["fc.bias.exp_avg"]
		}), `"fc.bias.momentum_buffer"`},
		{"missing buffer", edit(func(m map[string]*tensor.Dense) { delete(m, "fc.weight.max_exp_avg_sq") }),
			`"fc.weight.max_exp_avg_sq" is missing`},
		{"missing step", edit(func(m map[string]*tensor.Dense) { delete(m, "emb.weight.step") }),
			`"emb.weight" has no step counter`},
		{"shape mismatch", edit(func(m map[string]*tensor.Dense) {
			m["fc.weight.exp_avg_sq"] = tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(make([]float64, 12)))
		}), `"fc.weight.exp_avg_sq" is float64 (4, 3)`},
		{"dtype mismatch", edit(func(m map[string]*tensor.Dense) {
			m["fc.bias.exp_avg_sq"] = tensor.New(tensor.WithShape(4), tensor.WithBacking(make([]float32, 4)))
		}), `"fc.bias.exp_avg_sq" is float32`},
		{"bad dtype", edit(func(m map[string]*tensor.Dense) {
			m["fc.bias.exp_avg"] = tensor.New(tensor.WithShape(4), tensor.WithBacking(make([]int, 4)))
		}), `"fc.bias.exp_avg" has dtype int`},
		{"fractional step", edit(func(m map[string]*tensor.Dense) {
			m["fc.bias.step"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1.5}))
		}), `"fc.bias.step": is 1.5`},
		{"two-element step", edit(func(m map[string]*tensor.Dense) {
			m["fc.bias.step"] = tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 1}))
		}), `"fc.bias.step": has 2 elements`},
		{"no dot", edit(func(m map[string]*tensor.Dense) { m["step"] = m["fc.bias.step"] }), `key "step"`},
		{"nil tensor", edit(func(m map[string]*tensor.Dense) { m["fc.bias.exp_avg"] = nil }), `"fc.bias.exp_avg" is nil`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mk()
			mustT(t, s.LoadState(base))
			err := s.LoadState(c.st)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %s", err, c.want)
			}
			// The failed load left the earlier state in place.
			if got := s.State(); len(got) != len(base) {
				t.Fatalf("failed load changed the state (%d entries, want %d)", len(got), len(base))
			}
		})
	}
	// The first mismatch in key order is the one named.
	s := mk()
	err := s.LoadState(edit(func(m map[string]*tensor.Dense) {
		delete(m, "emb.weight.exp_avg")
		delete(m, "fc.weight.exp_avg")
	}))
	if err == nil || !strings.Contains(err.Error(), `"emb.weight.exp_avg"`) {
		t.Fatalf("error %v, want one naming emb.weight.exp_avg", err)
	}
}

func TestStepChecksLoadedStateAgainstParams(t *testing.T) {
	base, mk := savedAdamState(t)
	s := mk()
	st := map[string]*tensor.Dense{}
	for k, v := range base {
		st[k] = v
	}
	// A float32 model whose state was saved from a float64 one.
	ps := makeParams(tensor.Float32, randomInputs(7).values)
	mustT(t, s.LoadState(st))
	setGrads(ps, randomInputs(7).grads[0])
	before := graph.Float64s(ps[0].Value)
	err := s.Step(ps)
	if err == nil || !strings.Contains(err.Error(), `state of "fc.weight" is float64 (3, 4) but the parameter is float32 (3, 4)`) {
		t.Fatalf("error %v", err)
	}
	if !sameBits(before, graph.Float64s(ps[0].Value)) || graph.Float64s(ps[0].Grad)[0] == 0 {
		t.Fatal("a failed step changed a parameter or its gradient")
	}
	if err := MatchState(st, ps); err == nil || !strings.Contains(err.Error(), `"emb.weight.exp_avg" is float64 (2, 3, 2) but parameter "emb.weight" is float32`) {
		t.Fatalf("MatchState: %v", err)
	}
	ps64 := makeParams(tensor.Float64, randomInputs(7).values)
	mustT(t, MatchState(st, ps64))
	if err := MatchState(st, ps64[:2]); err == nil || !strings.Contains(err.Error(), `"emb.weight.exp_avg" belongs to no parameter`) {
		t.Fatalf("MatchState with a missing parameter: %v", err)
	}
	delete(st, "fc.bias.step")
	if err := MatchState(st, ps64); err == nil || !strings.Contains(err.Error(), `no state for parameter "fc.bias"`) {
		t.Fatalf("MatchState without a step counter: %v", err)
	}
}

func TestStepErrors(t *testing.T) {
	in := randomInputs(8)
	s, err := NewRMSProp(DefaultRMSPropConfig())
	mustT(t, err)
	ps := makeParams(tensor.Float64, in.values)
	setGrads(ps, in.grads[0])
	before := graph.Float64s(ps[0].Value)
	check := func(what string, params []*graph.Param, want string) {
		t.Helper()
		err := s.Step(params)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %v, want one containing %q", what, err, want)
		}
		if !sameBits(before, graph.Float64s(ps[0].Value)) {
			t.Fatalf("%s: a failed step changed fc.weight", what)
		}
		if len(s.State()) != 0 {
			t.Fatalf("%s: a failed step left state behind", what)
		}
	}
	check("duplicate", []*graph.Param{ps[0], ps[1], ps[0]}, `"fc.weight" listed twice`)
	check("nil", []*graph.Param{ps[0], nil}, "parameter 1 is nil")
	check("nil grad", []*graph.Param{ps[0], {Name: "x", Value: ps[1].Value}}, `"x" has a nil Value or Grad`)
	check("dtype", []*graph.Param{ps[0], {Name: "x", Value: ps[1].Value,
		Grad: tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(4))}}, `"x" has a float64 value but a float32 gradient`)
	check("shape", []*graph.Param{ps[0], {Name: "x", Value: ps[1].Value,
		Grad: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 2))}}, `"x" has value shape (4) but gradient shape (2, 2)`)
	check("int", []*graph.Param{ps[0], {Name: "x", Value: tensor.New(tensor.Of(tensor.Int), tensor.WithShape(4)),
		Grad: tensor.New(tensor.Of(tensor.Int), tensor.WithShape(4))}}, `"x" has dtype int`)
	s.SetLR(-1)
	check("negative lr", ps, "learning rate -1")
	s.SetLR(math.NaN())
	check("NaN lr", ps, "learning rate NaN")
	s.SetLR(0.01)
	if s.LR() != 0.01 {
		t.Fatal("SetLR")
	}
	mustT(t, s.Step(ps))
	// The gradient is zeroed.
	for _, p := range ps {
		for _, g := range graph.Float64s(p.Grad) {
			if g != 0 {
				t.Fatal("gradient not zeroed")
			}
		}
	}
	// Another shape under a name already stepped.
	wrong := &graph.Param{Name: "fc.bias", Value: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(5)),
		Grad: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(5))}
	if err := s.Step([]*graph.Param{wrong}); err == nil || !strings.Contains(err.Error(), `state of "fc.bias" is float64 (4) but the parameter is float64 (5)`) {
		t.Fatalf("reshaped parameter: %v", err)
	}
}

// TestPlainSGDState: plain SGD keeps only step counters, which load back and
// take their layout from the parameters.
func TestPlainSGDState(t *testing.T) {
	in := randomInputs(9)
	a, err := NewSGD(SGDConfig{LR: 0.1})
	mustT(t, err)
	ps := makeParams(tensor.Float32, in.values)
	setGrads(ps, in.grads[0])
	mustT(t, a.Step(ps))
	st := a.State()
	if strings.Join(sortedKeys(st), ",") != "emb.weight.step,fc.bias.step,fc.weight.step" {
		t.Fatalf("keys %v", sortedKeys(st))
	}
	b, err := NewSGD(SGDConfig{LR: 0.1})
	mustT(t, err)
	mustT(t, b.LoadState(st))
	setGrads(ps, in.grads[1])
	mustT(t, b.Step(ps))
	if got := graph.Float64s(b.State()["fc.bias.step"]); got[0] != 2 {
		t.Fatalf("step %v, want 2", got)
	}
	// A momentum solver refuses the plain state: its buffers are missing.
	c, err := NewSGD(SGDConfig{LR: 0.1, Momentum: 0.9})
	mustT(t, err)
	if err := c.LoadState(st); err == nil || !strings.Contains(err.Error(), `"emb.weight.momentum_buffer" is missing`) {
		t.Fatalf("error %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []struct {
		name string
		err  error
	}{
		{"sgd lr", second(NewSGD(SGDConfig{LR: -1}))},
		{"sgd nesterov without momentum", second(NewSGD(SGDConfig{LR: 1, Nesterov: true}))},
		{"sgd nesterov with dampening", second(NewSGD(SGDConfig{LR: 1, Momentum: 0.9, Dampening: 0.1, Nesterov: true}))},
		{"sgd weight decay", second(NewSGD(SGDConfig{LR: 1, WeightDecay: -1}))},
		{"adam beta1", second(NewAdam(AdamConfig{LR: 1, Beta1: 1, Beta2: 0.9}))},
		{"adam beta2", second(NewAdam(AdamConfig{LR: 1, Beta1: 0.9, Beta2: -0.1}))},
		{"adamw eps", second(NewAdamW(AdamConfig{LR: 1, Beta1: 0.9, Beta2: 0.9, Eps: -1}))},
		{"adam lr NaN", second(NewAdam(AdamConfig{LR: math.NaN()}))},
		{"rmsprop alpha", second(NewRMSProp(RMSPropConfig{LR: 1, Alpha: -1}))},
		{"rmsprop momentum", second(NewRMSProp(RMSPropConfig{LR: 1, Momentum: -1}))},
		{"adagrad decay", second(NewAdaGrad(AdaGradConfig{LR: 1, LRDecay: -1}))},
		{"adagrad init", second(NewAdaGrad(AdaGradConfig{LR: 1, InitialAccumulatorValue: -1}))},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	if c := DefaultAdamConfig(); c != (AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}) {
		t.Errorf("DefaultAdamConfig %+v", c)
	}
	if c := DefaultAdamWConfig(); c.WeightDecay != 1e-2 {
		t.Errorf("DefaultAdamWConfig %+v", c)
	}
	if c := DefaultRMSPropConfig(); c != (RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}) {
		t.Errorf("DefaultRMSPropConfig %+v", c)
	}
	if c := DefaultAdaGradConfig(); c != (AdaGradConfig{LR: 1e-2, Eps: 1e-10}) {
		t.Errorf("DefaultAdaGradConfig %+v", c)
	}
}

func second[T any](_ T, err error) error { return err }

// TestFailedStepLeavesNoState: a parameter first seen in a step that fails can
// later be stepped with another shape under the same name.
func TestFailedStepLeavesNoState(t *testing.T) {
	s, err := NewAdam(DefaultAdamConfig())
	mustT(t, err)
	mk := func(n int) *graph.Param {
		return &graph.Param{Name: "w", Value: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n)),
			Grad: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n))}
	}
	if err := s.Step([]*graph.Param{mk(3), nil}); err == nil {
		t.Fatal("nil parameter accepted")
	}
	mustT(t, s.Step([]*graph.Param{mk(5)}))
	if got := s.State()["w.exp_avg"].Shape(); !slices.Equal(got, []int{5}) {
		t.Fatalf("state shape %v, want (5)", got)
	}
}
