package solvers

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The reference solvers below are written independently of the package's code,
// element by element in float64, straight from the pseudo-code of PyTorch 1.13's
// documentation (https://pytorch.org/docs/1.13/optim.html, one page per
// algorithm), with bias corrections applied to the moments as written there
// rather than folded into the step size. They make the tests stand without the
// PyTorch fixtures.

// refSolver applies one step to the weights w from the gradients g at rate lr.
type refSolver interface {
	step(w, g [][]float64, lr float64)
}

// zerosLike returns zero buffers shaped as w.
func zerosLike(w [][]float64) [][]float64 {
	out := make([][]float64, len(w))
	for k := range w {
		out[k] = make([]float64, len(w[k]))
	}
	return out
}

// refSGD: SGD pseudo-code (torch.optim.SGD documentation).
type refSGD struct {
	mu, tau, lambda float64
	nesterov        bool
	b               [][]float64 // nil before the first step
}

func (r *refSGD) step(w, g [][]float64, lr float64) {
	first := r.b == nil // t = 1 in the pseudo-code
	if first {
		r.b = zerosLike(w)
	}
	for k := range w {
		for i := range w[k] {
			gt := g[k][i]
			if r.lambda != 0 {
				gt = gt + r.lambda*w[k][i]
			}
			if r.mu != 0 {
				if !first {
					r.b[k][i] = r.mu*r.b[k][i] + (1-r.tau)*gt
				} else {
					r.b[k][i] = gt
				}
				if r.nesterov {
					gt = gt + r.mu*r.b[k][i]
				} else {
					gt = r.b[k][i]
				}
			}
			w[k][i] = w[k][i] - lr*gt
		}
	}
}

// refAdam: Adam and AdamW pseudo-code (torch.optim.Adam, torch.optim.AdamW
// documentation). For AMSGrad the running maximum is kept over the raw second
// moment and bias-corrected afterwards, which is what PyTorch computes (and
// Reddi et al. 2018, Algorithm 2, without bias correction); the documentation's
// formula takes the maximum of the bias-corrected moments instead.
type refAdam struct {
	beta1, beta2, eps, lambda float64
	amsgrad, decoupled        bool
	t                         int
	m, v, vmax                [][]float64
}

func (r *refAdam) step(w, g [][]float64, lr float64) {
	r.t++
	if r.m == nil {
		r.m, r.v, r.vmax = zerosLike(w), zerosLike(w), zerosLike(w)
	}
	t := float64(r.t)
	for k := range w {
		for i := range w[k] {
			gt := g[k][i]
			if r.decoupled {
				w[k][i] = w[k][i] - lr*r.lambda*w[k][i]
			} else if r.lambda != 0 {
				gt = gt + r.lambda*w[k][i]
			}
			r.m[k][i] = r.beta1*r.m[k][i] + (1-r.beta1)*gt
			r.v[k][i] = r.beta2*r.v[k][i] + (1-r.beta2)*gt*gt
			mHat := r.m[k][i] / (1 - math.Pow(r.beta1, t))
			vHat := r.v[k][i] / (1 - math.Pow(r.beta2, t))
			if r.amsgrad {
				r.vmax[k][i] = math.Max(r.vmax[k][i], r.v[k][i])
				vHat = r.vmax[k][i] / (1 - math.Pow(r.beta2, t))
			}
			w[k][i] = w[k][i] - lr*mHat/(math.Sqrt(vHat)+r.eps)
		}
	}
}

// refRMSProp: RMSprop pseudo-code (torch.optim.RMSprop documentation).
type refRMSProp struct {
	alpha, eps, lambda, mu float64
	centered               bool
	v, gAve, b             [][]float64
}

func (r *refRMSProp) step(w, g [][]float64, lr float64) {
	if r.v == nil {
		r.v, r.gAve, r.b = zerosLike(w), zerosLike(w), zerosLike(w)
	}
	for k := range w {
		for i := range w[k] {
			gt := g[k][i]
			if r.lambda != 0 {
				gt = gt + r.lambda*w[k][i]
			}
			r.v[k][i] = r.alpha*r.v[k][i] + (1-r.alpha)*gt*gt
			vTilde := r.v[k][i]
			if r.centered {
				r.gAve[k][i] = r.alpha*r.gAve[k][i] + (1-r.alpha)*gt
				vTilde = vTilde - r.gAve[k][i]*r.gAve[k][i]
			}
			if r.mu > 0 {
				r.b[k][i] = r.mu*r.b[k][i] + gt/(math.Sqrt(vTilde)+r.eps)
				w[k][i] = w[k][i] - lr*r.b[k][i]
			} else {
				w[k][i] = w[k][i] - lr*gt/(math.Sqrt(vTilde)+r.eps)
			}
		}
	}
}

// refAdaGrad: Adagrad pseudo-code (torch.optim.Adagrad documentation).
type refAdaGrad struct {
	lrDecay, lambda, init, eps float64
	t                          int
	sum                        [][]float64
}

func (r *refAdaGrad) step(w, g [][]float64, lr float64) {
	r.t++
	if r.sum == nil {
		r.sum = zerosLike(w)
		for k := range r.sum {
			for i := range r.sum[k] {
				r.sum[k][i] = r.init
			}
		}
	}
	gammaT := lr / (1 + float64(r.t-1)*r.lrDecay)
	for k := range w {
		for i := range w[k] {
			gt := g[k][i]
			if r.lambda != 0 {
				gt = gt + r.lambda*w[k][i]
			}
			r.sum[k][i] = r.sum[k][i] + gt*gt
			w[k][i] = w[k][i] - gammaT*gt/(math.Sqrt(r.sum[k][i])+r.eps)
		}
	}
}

// refClipNorm scales g so that its total p-norm is at most maxNorm, as the
// documentation of torch.nn.utils.clip_grad_norm_ describes (the norm of all
// gradients concatenated into one vector; the 1e-6 guard is the code's).
func refClipNorm(g [][]float64, maxNorm, p float64) float64 {
	total := 0.0
	for k := range g {
		for _, x := range g[k] {
			if math.IsInf(p, 1) {
				total = math.Max(total, math.Abs(x))
			} else {
				total += math.Pow(math.Abs(x), p)
			}
		}
	}
	if !math.IsInf(p, 1) {
		total = math.Pow(total, 1/p)
	}
	if c := maxNorm / (total + 1e-6); c < 1 {
		for k := range g {
			for i := range g[k] {
				g[k][i] *= c
			}
		}
	}
	return total
}

// refClipValue clamps g to [-v, v].
func refClipValue(g [][]float64, v float64) {
	for k := range g {
		for i := range g[k] {
			g[k][i] = math.Max(-v, math.Min(v, g[k][i]))
		}
	}
}

type clipSpec struct {
	kind     string // "norm" or "value"
	max, typ float64
}

type refCase struct {
	name string
	make func() (Solver, error)
	ref  func() refSolver
	clip *clipSpec
	lrs  []float64 // nil: the solver's configured rate throughout
}

var decaying = []float64{0.05, 0.04, 0.03, 0.03, 0.02, 0.01, 0.005}

func refCases() []refCase {
	adam := DefaultAdamConfig()
	return []refCase{
		{name: "sgd_plain",
			make: func() (Solver, error) { return NewSGD(SGDConfig{LR: 0.1}) },
			ref:  func() refSolver { return &refSGD{} }},
		{name: "sgd_momentum_dampening_wd",
			make: func() (Solver, error) {
				return NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 0.01})
			},
			ref: func() refSolver { return &refSGD{mu: 0.9, tau: 0.1, lambda: 0.01} }},
		{name: "sgd_nesterov_wd_clipnorm",
			make: func() (Solver, error) {
				return NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 0.01, Nesterov: true})
			},
			ref:  func() refSolver { return &refSGD{mu: 0.9, lambda: 0.01, nesterov: true} },
			clip: &clipSpec{"norm", 3, 2}},
		{name: "sgd_momentum_schedule",
			make: func() (Solver, error) { return NewSGD(SGDConfig{LR: 0.05, Momentum: 0.5}) },
			ref:  func() refSolver { return &refSGD{mu: 0.5} }, lrs: decaying},
		{name: "adam_default",
			make: func() (Solver, error) { return NewAdam(adam) },
			ref:  func() refSolver { return &refAdam{beta1: 0.9, beta2: 0.999, eps: 1e-8} }},
		{name: "adam_wd",
			make: func() (Solver, error) {
				return NewAdam(AdamConfig{LR: 1e-2, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0.1})
			},
			ref: func() refSolver { return &refAdam{beta1: 0.8, beta2: 0.95, eps: 1e-6, lambda: 0.1} }},
		{name: "adam_amsgrad_wd_clipnorm",
			make: func() (Solver, error) {
				c := adam
				c.LR, c.WeightDecay, c.AMSGrad = 1e-2, 0.05, true
				return NewAdam(c)
			},
			ref: func() refSolver {
				return &refAdam{beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 0.05, amsgrad: true}
			},
			clip: &clipSpec{"norm", 6, 2}},
		{name: "adam_schedule_clipnorm1",
			make: func() (Solver, error) { return NewAdam(adam) },
			ref:  func() refSolver { return &refAdam{beta1: 0.9, beta2: 0.999, eps: 1e-8} },
			clip: &clipSpec{"norm", 10, 1}, lrs: decaying},
		{name: "adamw_default",
			make: func() (Solver, error) {
				c := DefaultAdamWConfig()
				c.LR = 1e-2
				return NewAdamW(c)
			},
			ref: func() refSolver {
				return &refAdam{beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 1e-2, decoupled: true}
			}},
		{name: "adamw_amsgrad_clipvalue",
			make: func() (Solver, error) {
				c := DefaultAdamWConfig()
				c.LR, c.WeightDecay, c.AMSGrad = 1e-2, 0.1, true
				return NewAdamW(c)
			},
			ref: func() refSolver {
				return &refAdam{beta1: 0.9, beta2: 0.999, eps: 1e-8, lambda: 0.1, decoupled: true, amsgrad: true}
			},
			clip: &clipSpec{kind: "value", max: 0.3}, lrs: decaying},
		{name: "rmsprop_default",
			make: func() (Solver, error) { return NewRMSProp(DefaultRMSPropConfig()) },
			ref:  func() refSolver { return &refRMSProp{alpha: 0.99, eps: 1e-8} }},
		{name: "rmsprop_centered_momentum_wd",
			make: func() (Solver, error) {
				return NewRMSProp(RMSPropConfig{LR: 1e-3, Alpha: 0.9, Eps: 1e-6, WeightDecay: 0.01, Momentum: 0.5, Centered: true})
			},
			ref: func() refSolver {
				return &refRMSProp{alpha: 0.9, eps: 1e-6, lambda: 0.01, mu: 0.5, centered: true}
			}},
		{name: "rmsprop_momentum_clipnorminf",
			make: func() (Solver, error) {
				c := DefaultRMSPropConfig()
				c.Momentum = 0.9
				return NewRMSProp(c)
			},
			ref:  func() refSolver { return &refRMSProp{alpha: 0.99, eps: 1e-8, mu: 0.9} },
			clip: &clipSpec{"norm", 1, math.Inf(1)}},
		{name: "rmsprop_centered_clipnorm",
			make: func() (Solver, error) {
				c := DefaultRMSPropConfig()
				c.Centered, c.WeightDecay = true, 0.001
				return NewRMSProp(c)
			},
			ref:  func() refSolver { return &refRMSProp{alpha: 0.99, eps: 1e-8, lambda: 0.001, centered: true} },
			clip: &clipSpec{"norm", 2, 2}, lrs: decaying},
		{name: "adagrad_default",
			make: func() (Solver, error) { return NewAdaGrad(DefaultAdaGradConfig()) },
			ref:  func() refSolver { return &refAdaGrad{eps: 1e-10} }},
		{name: "adagrad_decay_init_wd",
			make: func() (Solver, error) {
				return NewAdaGrad(AdaGradConfig{LR: 0.1, LRDecay: 0.01, WeightDecay: 0.05, InitialAccumulatorValue: 0.1, Eps: 1e-8})
			},
			ref:  func() refSolver { return &refAdaGrad{lrDecay: 0.01, lambda: 0.05, init: 0.1, eps: 1e-8} },
			clip: &clipSpec{"norm", 1.5, 2}, lrs: decaying},
	}
}

func deepCopy(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for k := range x {
		out[k] = append([]float64(nil), x[k]...)
	}
	return out
}

// runAgainstReference steps a solver of dtype and its reference side by side
// over the inputs and returns the largest relative difference of the weights,
// failing at the first element off by more than rel.
func runAgainstReference(t *testing.T, c refCase, in inputs, dtype tensor.Dtype, rel, floor float64) float64 {
	t.Helper()
	s, err := c.make()
	mustT(t, err)
	ref := c.ref()
	ps := makeParams(dtype, in.values)
	w := deepCopy(in.values)
	if dtype == tensor.Float32 { // the reference starts from the same rounded values
		for k, p := range ps {
			w[k] = graph.Float64s(p.Value)
		}
	}
	worst := 0.0
	for step, grads := range in.grads {
		setGrads(ps, grads)
		g := deepCopy(grads)
		lr := s.LR()
		if c.lrs != nil {
			lr = c.lrs[step]
			s.SetLR(lr)
		}
		if c.clip != nil {
			switch c.clip.kind {
			case "norm":
				want := refClipNorm(g, c.clip.max, c.clip.typ)
				got, err := ClipGradNorm(ps, c.clip.max, c.clip.typ)
				mustT(t, err)
				if !closeTo(got, want, math.Max(rel, 1e-12), 0) {
					t.Fatalf("step %d: clip norm %.17g, reference %.17g", step, got, want)
				}
			case "value":
				refClipValue(g, c.clip.max)
				mustT(t, ClipGradValue(ps, c.clip.max))
			}
		}
		ref.step(w, g, lr)
		mustT(t, s.Step(ps))
		for k, p := range ps {
			got := graph.Float64s(p.Value)
			compare(t, fmt.Sprintf("step %d %s", step, p.Name), got, w[k], rel, floor)
			worst = math.Max(worst, maxRel(got, w[k]))
		}
	}
	return worst
}

// TestMatchesReference checks every solver, in float64, against its hand-written
// reference to 1e-12 relative over seven steps (weight decay, momentum, Nesterov,
// centring, AMSGrad, learning-rate changes, norm and value clipping).
func TestMatchesReference(t *testing.T) {
	in := randomInputs(1)
	for _, c := range refCases() {
		t.Run(c.name, func(t *testing.T) {
			worst := runAgainstReference(t, c, in, tensor.Float64, 1e-12, 1e-6)
			t.Logf("largest relative difference from the reference: %.3g", worst)
		})
	}
}

// TestFloat32MatchesReference checks the float32 code paths against the float64
// references: seven steps of float32 rounding stay within 1e-4 relative (float32
// has a 6e-8 unit roundoff).
func TestFloat32MatchesReference(t *testing.T) {
	in := randomInputs(2)
	for _, c := range refCases() {
		t.Run(c.name, func(t *testing.T) {
			runAgainstReference(t, c, in, tensor.Float32, 1e-4, 1e-2)
		})
	}
}
