package solvers

import (
	"math"

	"github.com/pkg/errors"
)

// SGDConfig configures SGD. Its zero value (with an LR) is PyTorch's default
// torch.optim.SGD: no momentum, no dampening, no weight decay, no Nesterov.
type SGDConfig struct {
	// LR is the learning rate gamma (PyTorch has no default; it must be given).
	LR float64 `json:"lr"`
	// Momentum is mu (PyTorch default 0: plain gradient descent).
	Momentum float64 `json:"momentum"`
	// Dampening is tau: the new gradient enters the velocity with weight 1-tau
	// (PyTorch default 0).
	Dampening float64 `json:"dampening"`
	// WeightDecay is the L2 coefficient lambda, added to the gradient as
	// lambda*theta from the weights (PyTorch default 0).
	WeightDecay float64 `json:"weight_decay"`
	// Nesterov selects Nesterov momentum; it needs Momentum > 0 and Dampening 0
	// (PyTorch default false).
	Nesterov bool `json:"nesterov"`
}

// SGD is stochastic gradient descent with optional momentum, dampening, Nesterov
// momentum and L2 weight decay, following the algorithm of torch.optim.SGD
// (PyTorch 1.13 documentation, https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html):
//
//	g <- g + lambda*theta                      if lambda != 0
//	b <- g (first step), mu*b + (1-tau)*g      if mu != 0
//	g <- g + mu*b (Nesterov) or g <- b         if mu != 0
//	theta <- theta - gamma*g
//
// The weight decay reads the weights, not the velocity. Its state is
// "<name>.momentum_buffer" (when Momentum != 0) and "<name>.step".
type SGD struct{ base[SGDConfig] }

// NewSGD returns an SGD solver; it rejects the configurations PyTorch rejects
// (negative rate, momentum or weight decay; Nesterov without momentum or with
// dampening).
func NewSGD(cfg SGDConfig) (*SGD, error) {
	err := validate("SGD", cfg.LR, nonNeg("momentum", cfg.Momentum), nonNeg("weight decay", cfg.WeightDecay))
	switch {
	case err != nil:
		return nil, err
	case math.IsNaN(cfg.Dampening):
		return nil, errors.Errorf("solvers: SGD dampening is NaN")
	case cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0):
		return nil, errors.Errorf("solvers: SGD Nesterov momentum needs momentum > 0 and zero dampening (have %v, %v)", cfg.Momentum, cfg.Dampening)
	}
	var bufs []string
	var init []float64
	if cfg.Momentum != 0 {
		bufs, init = []string{"momentum_buffer"}, []float64{0}
	}
	return &SGD{newBase("SGD", cfg, cfg.LR, bufs, init, sgdStep[float32](cfg), sgdStep[float64](cfg))}, nil
}

func sgdStep[T float](c SGDConfig) update[T] {
	return func(lr float64, w, g []T, bufs [][]T, step int64) {
		var buf []T
		if c.Momentum != 0 {
			buf = bufs[0]
		}
		sgdUpdate(w, g, buf, T(lr), T(c.WeightDecay), T(c.Momentum), T(1-c.Dampening), c.Nesterov, step == 1)
	}
}

// sgdUpdate applies one SGD step to w from g (zeroing g). buf is nil without
// momentum; oneMinusDamp is 1-tau; first marks the parameter's first step, where
// the velocity starts as the gradient itself.
func sgdUpdate[T float](w, g, buf []T, lr, wd, mom, oneMinusDamp T, nesterov, first bool) {
	g = g[:len(w)]
	if buf == nil {
		for i := range w {
			d := g[i]
			if wd != 0 {
				d += wd * w[i]
			}
			w[i] += -lr * d
			g[i] = 0
		}
		return
	}
	buf = buf[:len(w)]
	for i := range w {
		d := g[i]
		if wd != 0 {
			d += wd * w[i]
		}
		b := d
		if !first {
			b = buf[i]*mom + oneMinusDamp*d
		}
		buf[i] = b
		if nesterov {
			d += mom * b
		} else {
			d = b
		}
		w[i] += -lr * d
		g[i] = 0
	}
}
