package solvers

import (
	"math"

	"github.com/pkg/errors"
)

// Schedule gives the learning rate of each optimizer step, step counting from 0
// (the rate for the first Solver.Step is LR(0)). A training loop calls
// solver.SetLR(schedule.LR(step)) before each step. A negative step is treated as 0.
type Schedule interface {
	LR(step int) float64
}

func checkRate(what string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 1) {
		return errors.Errorf("solvers: %s %v must be finite and non-negative", what, v)
	}
	return nil
}

// validated returns the schedule s and the result of its Validate.
func validated[S interface{ Validate() error }](s S) (S, error) { return s, s.Validate() }

// Constant is a fixed learning rate.
type Constant struct {
	// Base is the learning rate.
	Base float64 `json:"base"`
}

// NewConstant returns a constant schedule, rejecting a negative or non-finite rate.
func NewConstant(base float64) (Constant, error) {
	return validated(Constant{Base: base})
}

// Validate reports a negative or non-finite rate.
func (s Constant) Validate() error { return checkRate("constant learning rate", s.Base) }

// LR implements Schedule.
func (s Constant) LR(int) float64 { return s.Base }

// StepDecay multiplies the rate by Gamma every Every steps, as
// torch.optim.lr_scheduler.StepLR (stepped once per optimizer step):
// LR(step) = Base * Gamma^floor(step/Every).
type StepDecay struct {
	// Base is the initial learning rate.
	Base float64 `json:"base"`
	// Gamma is the factor applied every Every steps (PyTorch default 0.1).
	Gamma float64 `json:"gamma"`
	// Every is the period in steps (PyTorch's step_size).
	Every int `json:"every"`
}

// NewStepDecay returns a validated StepDecay schedule.
func NewStepDecay(base, gamma float64, every int) (StepDecay, error) {
	return validated(StepDecay{Base: base, Gamma: gamma, Every: every})
}

// Validate reports a bad rate, a negative or non-finite gamma or a period below 1.
func (s StepDecay) Validate() error {
	if err := checkRate("step decay base rate", s.Base); err != nil {
		return err
	}
	if err := checkRate("step decay gamma", s.Gamma); err != nil {
		return err
	}
	if s.Every < 1 {
		return errors.Errorf("solvers: step decay period %d must be at least 1", s.Every)
	}
	return nil
}

// LR implements Schedule. With a period below 1 the rate never decays.
func (s StepDecay) LR(step int) float64 {
	if step < 0 || s.Every < 1 {
		return s.Base
	}
	return s.Base * math.Pow(s.Gamma, float64(step/s.Every))
}

// Exponential multiplies the rate by Gamma every step, as
// torch.optim.lr_scheduler.ExponentialLR: LR(step) = Base * Gamma^step.
type Exponential struct {
	// Base is the initial learning rate.
	Base float64 `json:"base"`
	// Gamma is the factor applied each step.
	Gamma float64 `json:"gamma"`
}

// NewExponential returns a validated Exponential schedule.
func NewExponential(base, gamma float64) (Exponential, error) {
	return validated(Exponential{Base: base, Gamma: gamma})
}

// Validate reports a bad rate or gamma.
func (s Exponential) Validate() error {
	if err := checkRate("exponential base rate", s.Base); err != nil {
		return err
	}
	return checkRate("exponential gamma", s.Gamma)
}

// LR implements Schedule.
func (s Exponential) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	return s.Base * math.Pow(s.Gamma, float64(step))
}

// WarmupCosine rises linearly to Base over Warmup steps (Goyal et al. 2017,
// "Accurate, Large Minibatch SGD", section 2.2), then follows a half cosine from
// Base down to Min at step Total (Loshchilov and Hutter 2017, "SGDR", eq. 5,
// without restarts), and stays at Min afterwards:
//
//	LR(step) = Base * (step+1)/Warmup                                  step < Warmup
//	LR(step) = Min + (Base-Min) * (1 + cos(pi*(step-Warmup)/(Total-Warmup))) / 2
//	                                                                   Warmup <= step < Total
//	LR(step) = Min                                                     step >= Total
//
// The first step already has a non-zero rate, Base/Warmup, and step Warmup-1
// reaches Base.
type WarmupCosine struct {
	// Base is the peak learning rate.
	Base float64 `json:"base"`
	// Min is the final learning rate.
	Min float64 `json:"min"`
	// Warmup is the number of linear warm-up steps (0 for none).
	Warmup int `json:"warmup"`
	// Total is the step at which the cosine reaches Min; it exceeds Warmup.
	Total int `json:"total"`
}

// NewWarmupCosine returns a validated WarmupCosine schedule.
func NewWarmupCosine(base, min float64, warmup, total int) (WarmupCosine, error) {
	return validated(WarmupCosine{Base: base, Min: min, Warmup: warmup, Total: total})
}

// Validate reports bad rates, Min above Base, a negative warm-up or Total not
// beyond Warmup.
func (s WarmupCosine) Validate() error {
	if err := checkRate("cosine base rate", s.Base); err != nil {
		return err
	}
	if err := checkRate("cosine minimum rate", s.Min); err != nil {
		return err
	}
	if s.Min > s.Base {
		return errors.Errorf("solvers: cosine minimum rate %v exceeds the base rate %v", s.Min, s.Base)
	}
	if s.Warmup < 0 {
		return errors.Errorf("solvers: cosine warm-up %d must be non-negative", s.Warmup)
	}
	if s.Total <= s.Warmup {
		return errors.Errorf("solvers: cosine total steps %d must exceed the warm-up %d", s.Total, s.Warmup)
	}
	return nil
}

// LR implements Schedule.
func (s WarmupCosine) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	switch {
	case step < s.Warmup:
		return s.Base * float64(step+1) / float64(s.Warmup)
	case step >= s.Total:
		return s.Min
	}
	progress := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Min + (s.Base-s.Min)*(1+math.Cos(math.Pi*progress))/2
}

// Noam is the inverse-square-root schedule with linear warm-up of Vaswani et al.
// 2017, "Attention Is All You Need", section 5.3, eq. 3, scaled by Factor and
// with n = step+1 (the paper counts steps from 1):
//
//	LR(step) = Factor * DModel^-0.5 * min(n^-0.5, n * Warmup^-1.5)
//
// It peaks at n = Warmup with Factor/sqrt(DModel*Warmup). The paper uses
// DModel 512, Warmup 4000, Factor 1.
type Noam struct {
	// DModel is the model width d_model.
	DModel int `json:"d_model"`
	// Warmup is the number of warm-up steps.
	Warmup int `json:"warmup"`
	// Factor scales the whole schedule (1 in the paper).
	Factor float64 `json:"factor"`
}

// NewNoam returns a validated Noam schedule.
func NewNoam(dModel, warmup int, factor float64) (Noam, error) {
	return validated(Noam{DModel: dModel, Warmup: warmup, Factor: factor})
}

// Validate reports a width or warm-up below 1 or a bad factor.
func (s Noam) Validate() error {
	if s.DModel < 1 {
		return errors.Errorf("solvers: Noam model width %d must be at least 1", s.DModel)
	}
	if s.Warmup < 1 {
		return errors.Errorf("solvers: Noam warm-up %d must be at least 1", s.Warmup)
	}
	return checkRate("Noam factor", s.Factor)
}

// LR implements Schedule.
func (s Noam) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	n := float64(step + 1)
	return s.Factor / math.Sqrt(float64(s.DModel)) * math.Min(1/math.Sqrt(n), n*math.Pow(float64(s.Warmup), -1.5))
}

// WarmupDecay rises linearly to Base over Warmup steps, stays there, and from the
// epoch After on (epochs counted from 0) is multiplied by Decay once an epoch:
//
//	LR(step) = Base * min(1, (step+1)/Warmup) * Decay^max(0, epoch-After+1)
//
// With Warmup 0 it is char-rnn's schedule (Karpathy 2015, train.lua: the rate
// decays by decay_rate after every epoch from learning_rate_decay_after on);
// with Decay 1 it is a warm-up to a constant rate.
type WarmupDecay struct {
	Base          float64 `json:"base"`
	Warmup        int     `json:"warmup"`
	Decay         float64 `json:"decay"`
	After         int     `json:"after"`
	StepsPerEpoch int     `json:"steps_per_epoch"`
}

// LR implements Schedule.
func (s WarmupDecay) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	lr := s.Base
	if step < s.Warmup {
		lr = s.Base * float64(step+1) / float64(s.Warmup)
	}
	if epoch := step / max(s.StepsPerEpoch, 1); s.Decay != 1 && epoch >= s.After {
		lr *= math.Pow(s.Decay, float64(epoch-s.After+1))
	}
	return lr
}

// CosineOver returns WarmupCosine from base to final over a run of total steps,
// the warm-up cut to leave at least one cosine step: the rule every experiment
// with a cosine schedule shares.
func CosineOver(base, final float64, warmup, total int) (WarmupCosine, error) {
	return NewWarmupCosine(base, final, min(warmup, max(total-1, 0)), max(total, 1))
}
