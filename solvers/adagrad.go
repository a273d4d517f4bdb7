package solvers

import "math"

// AdaGradConfig configures AdaGrad. DefaultAdaGradConfig returns PyTorch's
// defaults; a zero field means zero, not "default".
type AdaGradConfig struct {
	// LR is the learning rate gamma (PyTorch default 1e-2).
	LR float64 `json:"lr"`
	// LRDecay is eta: step t uses gamma/(1+(t-1)*eta) (PyTorch default 0).
	LRDecay float64 `json:"lr_decay"`
	// WeightDecay is the L2 coefficient lambda added to the gradient as
	// lambda*theta (PyTorch default 0).
	WeightDecay float64 `json:"weight_decay"`
	// InitialAccumulatorValue is the starting value of the sum of squared
	// gradients (PyTorch default 0).
	InitialAccumulatorValue float64 `json:"initial_accumulator_value"`
	// Eps is added to the denominator (PyTorch default 1e-10).
	Eps float64 `json:"eps"`
}

// DefaultAdaGradConfig returns torch.optim.Adagrad's defaults: lr 1e-2, no
// learning-rate decay, no weight decay, accumulator starting at 0, eps 1e-10.
func DefaultAdaGradConfig() AdaGradConfig {
	return AdaGradConfig{LR: 1e-2, Eps: 1e-10}
}

// AdaGrad is the adaptive-gradient solver of Duchi, Hazan and Singer (2011),
// following torch.optim.Adagrad (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.optim.Adagrad.html), t counting
// each parameter's steps from 1:
//
//	g <- g + lambda*theta                 if lambda != 0
//	gamma' = gamma / (1 + (t-1)*eta)
//	s <- s + g^2
//	theta <- theta - gamma' * g / (sqrt(s) + eps)
//
// State: "<name>.sum" and "<name>.step".
type AdaGrad struct{ base[AdaGradConfig] }

// NewAdaGrad returns an AdaGrad solver; it rejects what PyTorch rejects (negative
// rate, decay, weight decay, initial accumulator or eps).
func NewAdaGrad(cfg AdaGradConfig) (*AdaGrad, error) {
	if err := validate("AdaGrad", cfg.LR, nonNeg("lr decay", cfg.LRDecay), nonNeg("weight decay", cfg.WeightDecay),
		finiteNonNeg("initial accumulator value", cfg.InitialAccumulatorValue), nonNeg("eps", cfg.Eps)); err != nil {
		return nil, err
	}
	return &AdaGrad{newBase("AdaGrad", cfg, cfg.LR, []string{"sum"}, []float64{cfg.InitialAccumulatorValue},
		adagradStep[float32](cfg), adagradStep[float64](cfg))}, nil
}

func adagradStep[T float](c AdaGradConfig) update[T] {
	return func(lr float64, w, g []T, bufs [][]T, step int64) {
		clr := lr / (1 + float64(step-1)*c.LRDecay)
		adagradUpdate(w, g, bufs[0], T(-clr), T(c.Eps), T(c.WeightDecay))
	}
}

// adagradUpdate applies one AdaGrad step to w from g (zeroing g) with the sum of
// squares s and the negated, decayed learning rate negLR.
func adagradUpdate[T float](w, g, s []T, negLR, eps, wd T) {
	n := len(w)
	g, s = g[:n], s[:n]
	for i := range w {
		gi := g[i]
		if wd != 0 {
			gi += wd * w[i]
		}
		si := s[i] + gi*gi
		s[i] = si
		w[i] += negLR * gi / (T(math.Sqrt(float64(si))) + eps)
		g[i] = 0
	}
}
