package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// CheckOptions tunes CheckGrad. The zero value gives the defaults.
type CheckOptions struct {
	// Step is the central-difference step h (default 1e-6).
	Step float64
	// RelTol and AbsTol bound |analytic - numeric| <= AbsTol + RelTol*max(|a|,|n|)
	// (defaults 1e-6 and 1e-8: central differences in float64 have an error of
	// order h^2 plus rounding of order eps/h, about 1e-10 here).
	RelTol, AbsTol float64
	// MaxPerParam checks at most this many elements of each parameter, spread
	// evenly (0: all).
	MaxPerParam int
	// Seed fixes the random inputs: they are redrawn from this seed before every run.
	Seed uint64
}

// CheckGrad compares the gradients a float64 training program computes with
// central differences (f(w+h) - f(w-h)) / 2h of its loss, for every parameter the
// program uses. Inputs must be set beforehand. It returns an error describing the
// first element outside tolerance. Parameter gradients are zeroed on return.
func CheckGrad(p *Program, opt CheckOptions) error {
	if !p.Training() {
		return errors.New("gradcheck: program has no loss")
	}
	if opt.Step == 0 {
		opt.Step = 1e-6
	}
	if opt.RelTol == 0 {
		opt.RelTol = 1e-6
	}
	if opt.AbsTol == 0 {
		opt.AbsTol = 1e-8
	}
	run := func() (float64, error) {
		p.SetNoise(NewRNG(opt.Seed, "gradcheck"))
		err := p.Run()
		return p.Loss(), err
	}
	for _, prm := range p.params {
		if prm.Value.Dtype() != tensor.Float64 {
			return errors.Errorf("gradcheck: parameter %q is %v; checks need float64", prm.Name, prm.Value.Dtype())
		}
		prm.ZeroGrad()
	}
	defer func() {
		for _, prm := range p.params {
			prm.ZeroGrad()
		}
	}()
	if _, err := run(); err != nil {
		return err
	}
	analytic := make([][]float64, len(p.params))
	for i, prm := range p.params {
		analytic[i] = Float64s(prm.Grad)
	}
	for i, prm := range p.params {
		w := Slice[float64](prm.Value)
		stride := 1
		if opt.MaxPerParam > 0 && len(w) > opt.MaxPerParam {
			stride = (len(w) + opt.MaxPerParam - 1) / opt.MaxPerParam
		}
		for j := 0; j < len(w); j += stride {
			orig := w[j]
			w[j] = orig + opt.Step
			fp, err := run()
			if err != nil {
				w[j] = orig
				return err
			}
			w[j] = orig - opt.Step
			fm, err := run()
			w[j] = orig
			if err != nil {
				return err
			}
			num := (fp - fm) / (2 * opt.Step)
			a := analytic[i][j]
			if math.IsNaN(a) || math.IsNaN(num) || math.Abs(a-num) > opt.AbsTol+opt.RelTol*math.Max(math.Abs(a), math.Abs(num)) {
				return fmt.Errorf("gradcheck: %s[%d]: analytic %.10g, numeric %.10g", prm.Name, j, a, num)
			}
		}
	}
	return nil
}
