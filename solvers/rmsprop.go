package solvers

import "math"

// RMSPropConfig configures RMSProp. DefaultRMSPropConfig returns PyTorch's
// defaults; a zero field means zero, not "default".
type RMSPropConfig struct {
	// LR is the learning rate gamma (PyTorch default 1e-2).
	LR float64 `json:"lr"`
	// Alpha is the decay of the squared-gradient average (PyTorch default 0.99).
	Alpha float64 `json:"alpha"`
	// Eps is added to the denominator (PyTorch default 1e-8).
	Eps float64 `json:"eps"`
	// WeightDecay is the L2 coefficient lambda added to the gradient as
	// lambda*theta (PyTorch default 0).
	WeightDecay float64 `json:"weight_decay"`
	// Momentum is mu (PyTorch default 0).
	Momentum float64 `json:"momentum"`
	// Centered normalises by an estimate of the gradient's variance instead of
	// its second moment (Graves 2013, "Generating Sequences With Recurrent Neural
	// Networks", eq. 38-41; PyTorch default false).
	Centered bool `json:"centered"`
}

// DefaultRMSPropConfig returns torch.optim.RMSprop's defaults: lr 1e-2, alpha
// 0.99, eps 1e-8, no weight decay, no momentum, not centred.
func DefaultRMSPropConfig() RMSPropConfig {
	return RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}
}

// RMSProp is Hinton's RMSProp (Lecture 6e of "Neural Networks for Machine
// Learning", 2012) with the options of torch.optim.RMSprop (PyTorch 1.13
// documentation, https://pytorch.org/docs/1.13/generated/torch.optim.RMSprop.html):
//
//	g <- g + lambda*theta                                 if lambda != 0
//	v <- alpha*v + (1-alpha)*g^2
//	a <- alpha*a + (1-alpha)*g, v' = v - a^2 (centred) or v' = v
//	b <- mu*b + g/(sqrt(v')+eps), theta <- theta - gamma*b    if mu > 0
//	theta <- theta - gamma*g/(sqrt(v')+eps)                   otherwise
//
// State: "<name>.square_avg", "<name>.momentum_buffer" (Momentum > 0),
// "<name>.grad_avg" (Centered) and "<name>.step".
type RMSProp struct{ base[RMSPropConfig] }

// NewRMSProp returns an RMSProp solver; it rejects what PyTorch rejects
// (negative rate, alpha, eps, momentum or weight decay).
func NewRMSProp(cfg RMSPropConfig) (*RMSProp, error) {
	if err := validate("RMSProp", cfg.LR, nonNeg("alpha", cfg.Alpha), nonNeg("eps", cfg.Eps),
		nonNeg("momentum", cfg.Momentum), nonNeg("weight decay", cfg.WeightDecay)); err != nil {
		return nil, err
	}
	iMom, iAvg := -1, -1 // buffer indices, -1 when absent
	bufs, init := []string{"square_avg"}, []float64{0}
	if cfg.Momentum > 0 {
		iMom = len(bufs)
		bufs, init = append(bufs, "momentum_buffer"), append(init, 0)
	}
	if cfg.Centered {
		iAvg = len(bufs)
		bufs, init = append(bufs, "grad_avg"), append(init, 0)
	}
	return &RMSProp{newBase("RMSProp", cfg, cfg.LR, bufs, init,
		rmspropStep[float32](cfg, iMom, iAvg), rmspropStep[float64](cfg, iMom, iAvg))}, nil
}

func rmspropStep[T float](c RMSPropConfig, iMom, iAvg int) update[T] {
	return func(lr float64, w, g []T, bufs [][]T, _ int64) {
		rmspropUpdate(w, g, bufs[0], pick(bufs, iMom), pick(bufs, iAvg),
			T(lr), T(c.Alpha), T(1-c.Alpha), T(c.Eps), T(c.WeightDecay), T(c.Momentum))
	}
}

// pick returns bufs[i], or nil when i < 0.
func pick[T float](bufs [][]T, i int) []T {
	if i < 0 {
		return nil
	}
	return bufs[i]
}

// rmspropUpdate applies one RMSProp step to w from g (zeroing g); buf (momentum)
// and avg (centred mean) are nil when not used.
func rmspropUpdate[T float](w, g, sq, buf, avg []T, lr, alpha, oneMinusAlpha, eps, wd, mom T) {
	n := len(w)
	g, sq = g[:n], sq[:n]
	if buf != nil {
		buf = buf[:n]
	}
	if avg != nil {
		avg = avg[:n]
	}
	for i := range w {
		gi := g[i]
		if wd != 0 {
			gi += wd * w[i]
		}
		s := sq[i]*alpha + oneMinusAlpha*gi*gi
		sq[i] = s
		if avg != nil {
			a := avg[i]*alpha + oneMinusAlpha*gi
			avg[i] = a
			s += -a * a
		}
		d := T(math.Sqrt(float64(s))) + eps
		if buf != nil {
			b := buf[i]*mom + gi/d
			buf[i] = b
			w[i] += -lr * b
		} else {
			w[i] += -lr * gi / d
		}
		g[i] = 0
	}
}
