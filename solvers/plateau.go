package solvers

import (
	"encoding/json"
	"math"

	"github.com/pkg/errors"
)

// PlateauConfig configures Plateau, with the meaning and defaults of
// torch.optim.lr_scheduler.ReduceLROnPlateau (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html).
// DefaultPlateauConfig returns those defaults.
type PlateauConfig struct {
	// Mode is "min" (lower metric is better, PyTorch default) or "max".
	Mode string `json:"mode"`
	// Factor multiplies the rate on a reduction; below 1 (PyTorch default 0.1).
	Factor float64 `json:"factor"`
	// Patience is the number of observations without improvement tolerated;
	// the rate drops at the next one (PyTorch default 10).
	Patience int `json:"patience"`
	// Threshold is the margin a metric must beat the best by to count as an
	// improvement (PyTorch default 1e-4).
	Threshold float64 `json:"threshold"`
	// ThresholdMode is "rel" (beat best*(1-Threshold) in min mode,
	// best*(1+Threshold) in max mode; PyTorch default) or "abs" (beat
	// best-Threshold, best+Threshold).
	ThresholdMode string `json:"threshold_mode"`
	// Cooldown is the number of observations after a reduction during which bad
	// observations are not counted (PyTorch default 0).
	Cooldown int `json:"cooldown"`
	// MinLR is the floor of the rate (PyTorch default 0).
	MinLR float64 `json:"min_lr"`
	// Eps is the smallest reduction applied; a smaller one is skipped (PyTorch
	// default 1e-8).
	Eps float64 `json:"eps"`
}

// DefaultPlateauConfig returns ReduceLROnPlateau's defaults: mode min, factor
// 0.1, patience 10, threshold 1e-4 relative, no cooldown, no floor, eps 1e-8.
func DefaultPlateauConfig() PlateauConfig {
	return PlateauConfig{Mode: "min", Factor: 0.1, Patience: 10, Threshold: 1e-4, ThresholdMode: "rel", Eps: 1e-8}
}

// Validate reports an unknown mode, a factor outside [0, 1), negative counts or
// bad thresholds.
func (c PlateauConfig) Validate() error {
	switch {
	case c.Mode != "min" && c.Mode != "max":
		return errors.Errorf("solvers: plateau mode %q must be \"min\" or \"max\"", c.Mode)
	case c.ThresholdMode != "rel" && c.ThresholdMode != "abs":
		return errors.Errorf("solvers: plateau threshold mode %q must be \"rel\" or \"abs\"", c.ThresholdMode)
	case !(c.Factor >= 0 && c.Factor < 1):
		return errors.Errorf("solvers: plateau factor %v must be in [0, 1)", c.Factor)
	case c.Patience < 0:
		return errors.Errorf("solvers: plateau patience %d must be non-negative", c.Patience)
	case c.Cooldown < 0:
		return errors.Errorf("solvers: plateau cooldown %d must be non-negative", c.Cooldown)
	case !(c.Threshold >= 0) || math.IsInf(c.Threshold, 1):
		return errors.Errorf("solvers: plateau threshold %v must be finite and non-negative", c.Threshold)
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 1):
		return errors.Errorf("solvers: plateau minimum rate %v must be finite and non-negative", c.MinLR)
	case !(c.Eps >= 0):
		return errors.Errorf("solvers: plateau eps %v must be non-negative", c.Eps)
	}
	return nil
}

// PlateauState is everything a Plateau needs to resume. It encodes to JSON with
// an infinite Best written as the string "inf" or "-inf" (JSON has no
// infinities).
type PlateauState struct {
	// LR is the current learning rate.
	LR float64 `json:"lr"`
	// Best is the best metric seen (+Inf in min mode, -Inf in max mode before
	// the first improvement).
	Best float64 `json:"best"`
	// NumBad counts observations since the last improvement.
	NumBad int `json:"num_bad"`
	// CooldownLeft counts the observations of cooldown still to come.
	CooldownLeft int `json:"cooldown_left"`
	// Observations counts calls of Observe.
	Observations int `json:"observations"`
}

// MarshalJSON implements json.Marshaler.
func (s PlateauState) MarshalJSON() ([]byte, error) {
	type plain PlateauState
	var best any = s.Best
	switch {
	case math.IsInf(s.Best, 1):
		best = "inf"
	case math.IsInf(s.Best, -1):
		best = "-inf"
	case math.IsNaN(s.Best):
		best = "nan"
	}
	return json.Marshal(struct {
		plain
		Best any `json:"best"`
	}{plain(s), best})
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *PlateauState) UnmarshalJSON(data []byte) error {
	type plain PlateauState
	var aux struct {
		plain
		Best json.RawMessage `json:"best"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return errors.Wrap(err, "solvers: plateau state")
	}
	*s = PlateauState(aux.plain)
	var str string
	switch {
	case len(aux.Best) == 0 || string(aux.Best) == "null":
		return errors.New("solvers: plateau state has no \"best\"")
	case json.Unmarshal(aux.Best, &s.Best) == nil:
	case json.Unmarshal(aux.Best, &str) == nil && str == "inf":
		s.Best = math.Inf(1)
	case str == "-inf":
		s.Best = math.Inf(-1)
	case str == "nan":
		s.Best = math.NaN()
	default:
		return errors.Errorf("solvers: plateau state: \"best\" is %s, want a number, \"inf\" or \"-inf\"", aux.Best)
	}
	return nil
}

// Plateau lowers the learning rate when a metric stops improving, as
// torch.optim.lr_scheduler.ReduceLROnPlateau: after more than Patience
// observations without improvement the rate becomes max(rate*Factor, MinLR)
// (unless that changes it by no more than Eps), followed by Cooldown
// observations whose lack of improvement is not counted. A NaN metric never
// improves. Save and restore it with State and LoadState.
type Plateau struct {
	cfg PlateauConfig
	st  PlateauState
}

// NewPlateau returns a Plateau starting at rate lr.
func NewPlateau(lr float64, cfg PlateauConfig) (*Plateau, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkRate("plateau initial rate", lr); err != nil {
		return nil, err
	}
	best := math.Inf(1)
	if cfg.Mode == "max" {
		best = math.Inf(-1)
	}
	return &Plateau{cfg: cfg, st: PlateauState{LR: lr, Best: best}}, nil
}

// Config returns the configuration the Plateau was made with.
func (p *Plateau) Config() PlateauConfig { return p.cfg }

// LR returns the current learning rate.
func (p *Plateau) LR() float64 { return p.st.LR }

// State returns the Plateau's state.
func (p *Plateau) State() PlateauState { return p.st }

// LoadState restores a state returned by State, rejecting negative counters, a
// bad rate or a NaN best.
func (p *Plateau) LoadState(s PlateauState) error {
	if err := checkRate("plateau state rate", s.LR); err != nil {
		return err
	}
	if math.IsNaN(s.Best) {
		return errors.New("solvers: plateau state best is NaN")
	}
	if s.NumBad < 0 || s.CooldownLeft < 0 || s.Observations < 0 {
		return errors.Errorf("solvers: plateau state has negative counters (%d, %d, %d)", s.NumBad, s.CooldownLeft, s.Observations)
	}
	p.st = s
	return nil
}

// better reports whether a improves on best by the configured threshold.
func (p *Plateau) better(a, best float64) bool {
	c := p.cfg
	switch {
	case c.Mode == "min" && c.ThresholdMode == "rel":
		return a < best*(1-c.Threshold)
	case c.Mode == "min":
		return a < best-c.Threshold
	case c.ThresholdMode == "rel":
		return a > best*(c.Threshold+1)
	}
	return a > best+c.Threshold
}

// Observe records one value of the metric (typically a validation loss, once per
// evaluation) and returns the learning rate to use from now on.
func (p *Plateau) Observe(metric float64) float64 {
	s := &p.st
	s.Observations++
	if p.better(metric, s.Best) {
		s.Best = metric
		s.NumBad = 0
	} else {
		s.NumBad++
	}
	if s.CooldownLeft > 0 {
		s.CooldownLeft--
		s.NumBad = 0
	}
	if s.NumBad > p.cfg.Patience {
		next := math.Max(s.LR*p.cfg.Factor, p.cfg.MinLR)
		if s.LR-next > p.cfg.Eps {
			s.LR = next
		}
		s.CooldownLeft = p.cfg.Cooldown
		s.NumBad = 0
	}
	return s.LR
}
