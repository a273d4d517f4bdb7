package solvers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// fixturePath is written by scripts/fixtures_solvers.py with PyTorch 1.13.
var fixturePath = filepath.Join("testdata", "solvers.json")

type fixtureCase struct {
	Name      string          `json:"name"`
	Optimizer string          `json:"optimizer"`
	Dtype     string          `json:"dtype"`
	Config    json.RawMessage `json:"config"`
	Clip      *struct {
		Kind     string `json:"kind"`
		Max      float64
		NormType any `json:"norm_type"`
	} `json:"clip"`
	LRs    []float64            `json:"lrs"`
	Params [][][]float64        `json:"params"` // [step][param][elem] after each step
	Norms  []float64            `json:"norms"`
	State  map[string][]float64 `json:"state"`
}

type plateauFixture struct {
	Config  PlateauConfig `json:"config"`
	LR      float64       `json:"lr"`
	Metrics []float64     `json:"metrics"`
	LRs     []float64     `json:"lrs"`
}

type fixtureFile struct {
	Torch  string `json:"torch"`
	Steps  int    `json:"steps"`
	Params []struct {
		Name  string    `json:"name"`
		Shape []int     `json:"shape"`
		Value []float64 `json:"value"`
	} `json:"params"`
	Grads     [][][]float64 `json:"grads"`
	Cases     []fixtureCase `json:"cases"`
	Schedules struct {
		Step struct {
			Base, Gamma float64
			Every       int
			LRs         []float64 `json:"lrs"`
		} `json:"step"`
		Exponential struct {
			Base, Gamma float64
			LRs         []float64 `json:"lrs"`
		} `json:"exponential"`
		Plateau []plateauFixture `json:"plateau"`
	} `json:"schedules"`
}

// loadFixtures reads the PyTorch reference runs, skipping the test when the file
// is absent (the hand-written references in reference_test.go still run).
func loadFixtures(t *testing.T) *fixtureFile {
	t.Helper()
	data, err := os.ReadFile(fixturePath)
	if os.IsNotExist(err) {
		t.Skipf("%s not found: generate it with scripts/fixtures_solvers.py", fixturePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var f fixtureFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", fixturePath, err)
	}
	if len(f.Params) != len(testShapes) || len(f.Grads) != f.Steps || f.Steps < 5 {
		t.Fatalf("%s: unexpected layout (%d params, %d gradient steps)", fixturePath, len(f.Params), len(f.Grads))
	}
	for i, p := range f.Params {
		if p.Name != testShapes[i].name || !slices.Equal(p.Shape, testShapes[i].shape) {
			t.Fatalf("%s: parameter %d is %s %v, want %s %v", fixturePath, i, p.Name, p.Shape, testShapes[i].name, testShapes[i].shape)
		}
	}
	return &f
}

// decodeStrict decodes a JSON object into v, rejecting unknown fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// solverFromFixture makes the solver a fixture case describes. The fixture's
// configuration keys are those of the config structs' JSON tags.
func solverFromFixture(kind string, raw json.RawMessage) (Solver, error) {
	switch kind {
	case "sgd":
		var c SGDConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		return NewSGD(c)
	case "adam", "adamw":
		var c AdamConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		if kind == "adam" {
			return NewAdam(c)
		}
		return NewAdamW(c)
	case "rmsprop":
		var c RMSPropConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		return NewRMSProp(c)
	case "adagrad":
		var c AdaGradConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		return NewAdaGrad(c)
	}
	return nil, fmt.Errorf("unknown optimizer %q", kind)
}

func clipNormType(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		if x == "inf" {
			return math.Inf(1), nil
		}
	}
	return 0, fmt.Errorf("bad norm type %v", v)
}

// TestMatchesPyTorch replays every PyTorch run of the fixture file: same initial
// parameters, gradients, clipping and learning rates; the parameters after every
// step, the clipping norms and the final state must agree, to 1e-12 relative in
// float64 and to float32 rounding (1e-5) in float32.
func TestMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t)
	var values [][]float64
	for _, p := range f.Params {
		values = append(values, p.Value)
	}
	if len(f.Cases) < 15 {
		t.Fatalf("only %d fixture cases", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dtype, rel, floor := tensor.Float64, 1e-12, 1e-6
			if c.Dtype == "float32" {
				dtype, rel, floor = tensor.Float32, 2e-5, 1e-3
			}
			s, err := solverFromFixture(c.Optimizer, c.Config)
			mustT(t, err)
			ps := makeParams(dtype, values)
			worst := 0.0
			for step := 0; step < f.Steps; step++ {
				setGrads(ps, f.Grads[step])
				if c.Clip != nil {
					switch c.Clip.Kind {
					case "norm":
						nt, err := clipNormType(c.Clip.NormType)
						mustT(t, err)
						norm, err := ClipGradNorm(ps, c.Clip.Max, nt)
						mustT(t, err)
						if !closeTo(norm, c.Norms[step], rel, floor) {
							t.Fatalf("step %d: norm %.17g, PyTorch %.17g", step, norm, c.Norms[step])
						}
					case "value":
						mustT(t, ClipGradValue(ps, c.Clip.Max))
					default:
						t.Fatalf("unknown clip kind %q", c.Clip.Kind)
					}
				}
				s.SetLR(c.LRs[step])
				mustT(t, s.Step(ps))
				for i, p := range ps {
					got := graph.Float64s(p.Value)
					compare(t, fmt.Sprintf("step %d %s", step, p.Name), got, c.Params[step][i], rel, floor)
					worst = math.Max(worst, maxRel(got, c.Params[step][i]))
					for j, g := range graph.Float64s(p.Grad) {
						if g != 0 {
							t.Fatalf("step %d: %s gradient %d not zeroed", step, p.Name, j)
						}
					}
				}
			}
			t.Logf("largest relative difference from PyTorch: %.3g", worst)

			// State: every PyTorch buffer under the same key; beyond those only
			// step counters.
			st := s.State()
			for _, k := range slices.Sorted(maps.Keys(c.State)) {
				got, ok := st[k]
				if !ok {
					t.Fatalf("state lacks PyTorch's %q", k)
				}
				compare(t, "state "+k, graph.Float64s(got), c.State[k], rel, floor)
			}
			for k, v := range st {
				if _, ok := c.State[k]; !ok && !strings.HasSuffix(k, ".step") {
					t.Errorf("state has %q, which PyTorch has not", k)
				}
				if strings.HasSuffix(k, ".step") && graph.Float64s(v)[0] != float64(f.Steps) {
					t.Errorf("%s = %v, want %d", k, graph.Float64s(v), f.Steps)
				}
			}
		})
	}
}

// TestSchedulesMatchPyTorch compares StepDecay, Exponential and Plateau with
// StepLR, ExponentialLR and ReduceLROnPlateau.
func TestSchedulesMatchPyTorch(t *testing.T) {
	f := loadFixtures(t)
	sc := f.Schedules
	step, err := NewStepDecay(sc.Step.Base, sc.Step.Gamma, sc.Step.Every)
	mustT(t, err)
	exp, err := NewExponential(sc.Exponential.Base, sc.Exponential.Gamma)
	mustT(t, err)
	if len(sc.Step.LRs) < 10 || len(sc.Exponential.LRs) < 10 || len(sc.Plateau) < 4 {
		t.Fatal("schedule fixtures too short")
	}
	for i, want := range sc.Step.LRs {
		if got := step.LR(i); !closeTo(got, want, 1e-12, 0) {
			t.Errorf("StepDecay.LR(%d) = %.17g, PyTorch %.17g", i, got, want)
		}
	}
	for i, want := range sc.Exponential.LRs {
		if got := exp.LR(i); !closeTo(got, want, 1e-12, 0) {
			t.Errorf("Exponential.LR(%d) = %.17g, PyTorch %.17g", i, got, want)
		}
	}
	for n, pf := range sc.Plateau {
		p, err := NewPlateau(pf.LR, pf.Config)
		mustT(t, err)
		for i, m := range pf.Metrics {
			if got := p.Observe(m); got != pf.LRs[i] {
				t.Errorf("plateau %d (%+v): observation %d (%v): lr %.17g, PyTorch %.17g", n, pf.Config, i, m, got, pf.LRs[i])
			}
		}
	}
}
