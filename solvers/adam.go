package solvers

import (
	"math"

	"github.com/triadml/triad/internal/avx2"
)

// AdamConfig configures Adam and AdamW. DefaultAdamConfig and DefaultAdamWConfig
// return PyTorch's defaults; a zero field means zero, not "default".
type AdamConfig struct {
	// LR is the learning rate gamma (PyTorch default 1e-3).
	LR float64 `json:"lr"`
	// Beta1 is the decay of the first-moment average (PyTorch default 0.9).
	Beta1 float64 `json:"beta1"`
	// Beta2 is the decay of the second-moment average (PyTorch default 0.999).
	Beta2 float64 `json:"beta2"`
	// Eps is added to the denominator (PyTorch default 1e-8).
	Eps float64 `json:"eps"`
	// WeightDecay is lambda: for Adam an L2 term lambda*theta added to the gradient
	// (PyTorch default 0); for AdamW the decoupled decay theta <- theta*(1-gamma*lambda)
	// (PyTorch default 1e-2).
	WeightDecay float64 `json:"weight_decay"`
	// AMSGrad normalises by the running maximum of the second moment (Reddi et
	// al. 2018, "On the Convergence of Adam and Beyond"; PyTorch default false).
	AMSGrad bool `json:"amsgrad"`
}

// DefaultAdamConfig returns torch.optim.Adam's defaults: lr 1e-3, betas (0.9,
// 0.999), eps 1e-8, weight decay 0, no AMSGrad.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch.optim.AdamW's defaults: those of Adam with
// weight decay 1e-2.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay = 1e-2
	return c
}

// newAdam returns an Adam solver (decoupled false) or an AdamW solver
// (decoupled true) called kind, of the type S that wraps their common base.
func newAdam[S ~struct{ base[AdamConfig] }](kind string, cfg AdamConfig, decoupled bool) (*S, error) {
	if err := validate(kind, cfg.LR, inUnit("beta1", cfg.Beta1), inUnit("beta2", cfg.Beta2),
		nonNeg("eps", cfg.Eps), nonNeg("weight decay", cfg.WeightDecay)); err != nil {
		return nil, err
	}
	bufs, init := []string{"exp_avg", "exp_avg_sq"}, []float64{0, 0}
	if cfg.AMSGrad {
		bufs, init = append(bufs, "max_exp_avg_sq"), append(init, 0)
	}
	return &S{newBase(kind, cfg, cfg.LR, bufs, init, adamStep[float32](cfg, decoupled), adamStep[float64](cfg, decoupled))}, nil
}

// adamCoeffs are the per-step scalars of an Adam update in the element type.
type adamCoeffs[T float] struct {
	b1, oneMinusB1 T // beta1, 1-beta1
	b2, oneMinusB2 T // beta2, 1-beta2
	l2             T // L2 coefficient added to the gradient (Adam)
	decay          T // 1 - lr*lambda multiplying the weights first (AdamW)
	negStep        T // -lr / (1 - beta1^t)
	bc2Sqrt        T // sqrt(1 - beta2^t)
	eps            T
	amsgrad        bool
	decouple       bool
}

func makeAdamCoeffs[T float](c AdamConfig, lr float64, decoupled bool, step int64) adamCoeffs[T] {
	t := float64(step)
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := 1 - math.Pow(c.Beta2, t)
	k := adamCoeffs[T]{
		b1: T(c.Beta1), oneMinusB1: T(1 - c.Beta1),
		b2: T(c.Beta2), oneMinusB2: T(1 - c.Beta2),
		negStep: T(-(lr / bc1)), bc2Sqrt: T(math.Sqrt(bc2)), eps: T(c.Eps),
		amsgrad: c.AMSGrad, decouple: decoupled,
	}
	if decoupled {
		k.decay = T(1 - lr*c.WeightDecay)
	} else {
		k.l2 = T(c.WeightDecay)
	}
	return k
}

func adamStep[T float](c AdamConfig, decoupled bool) update[T] {
	return func(lr float64, w, g []T, bufs [][]T, step int64) {
		var vmax []T
		if c.AMSGrad {
			vmax = bufs[2]
		}
		adamUpdate(w, g, bufs[0], bufs[1], vmax, makeAdamCoeffs[T](c, lr, decoupled, step))
	}
}

// adamUpdate applies one Adam/AdamW step to w from g (zeroing g), with first and
// second moments m, v and, for AMSGrad, their running maximum vmax. The order of
// operations is that of PyTorch's single-tensor implementation: the bias
// corrections fold into the step size and into the denominator
// sqrt(v)/sqrt(1-beta2^t) + eps.
func adamUpdate[T float](w, g, m, v, vmax []T, k adamCoeffs[T]) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	if w32, ok := any(w).([]float32); ok && avx2.Available && !k.amsgrad && (k.decouple || k.l2 == 0) {
		// eight lanes at a time, each equal to the loop below bit for bit;
		// plain Adam without decay is the decoupled step with decay 1
		decay := float32(1)
		if k.decouple {
			decay = float32(k.decay)
		}
		done := n &^ 7
		avx2.AdamDecoupled32(w32[:done], any(g).([]float32), any(m).([]float32), any(v).([]float32), decay,
			float32(k.b1), float32(k.oneMinusB1), float32(k.b2), float32(k.oneMinusB2), float32(k.negStep), float32(k.bc2Sqrt), float32(k.eps))
		w, g, m, v = w[done:], g[done:], m[done:], v[done:]
	}
	if k.amsgrad {
		vmax = vmax[:n]
	}
	for i := range w {
		wi := w[i]
		gi := g[i]
		if k.decouple {
			wi *= k.decay
		} else if k.l2 != 0 {
			gi += k.l2 * wi
		}
		mi := m[i]*k.b1 + k.oneMinusB1*gi
		vi := v[i]*k.b2 + k.oneMinusB2*gi*gi
		m[i], v[i] = mi, vi
		if k.amsgrad {
			vi = max(vmax[i], vi)
			vmax[i] = vi
		}
		denom := T(math.Sqrt(float64(vi)))/k.bc2Sqrt + k.eps
		w[i] = wi + k.negStep*mi/denom
		g[i] = 0
	}
}

// Adam is the Adam solver of Kingma and Ba (2015) with L2 weight decay and
// optional AMSGrad, following torch.optim.Adam (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.optim.Adam.html), t counting
// each parameter's steps from 1:
//
//	g <- g + lambda*theta                                if lambda != 0
//	m <- beta1*m + (1-beta1)*g
//	v <- beta2*v + (1-beta2)*g^2
//	vmax <- max(vmax, v), v' = vmax (AMSGrad) or v' = v
//	theta <- theta - gamma/(1-beta1^t) * m / (sqrt(v')/sqrt(1-beta2^t) + eps)
//
// The AMSGrad maximum is taken over the raw second moments, as PyTorch's code
// (and Reddi et al.'s algorithm) does; PyTorch's documentation writes it over the
// bias-corrected ones, which is not what PyTorch computes. State:
// "<name>.exp_avg", "<name>.exp_avg_sq", "<name>.max_exp_avg_sq" (AMSGrad) and
// "<name>.step".
type Adam struct{ base[AdamConfig] }

// NewAdam returns an Adam solver; it rejects what PyTorch rejects (negative rate,
// eps or weight decay, betas outside [0, 1)).
func NewAdam(cfg AdamConfig) (*Adam, error) { return newAdam[Adam]("Adam", cfg, false) }

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2019,
// "Decoupled Weight Decay Regularization"), following torch.optim.AdamW
// (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.optim.AdamW.html): each step
// first shrinks the weights, theta <- theta*(1 - gamma*lambda), then applies the
// Adam update of the raw gradient. State as for Adam.
type AdamW struct{ base[AdamConfig] }

// NewAdamW returns an AdamW solver (see DefaultAdamWConfig); it rejects what
// PyTorch rejects.
func NewAdamW(cfg AdamConfig) (*AdamW, error) { return newAdam[AdamW]("AdamW", cfg, true) }
