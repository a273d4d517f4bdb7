package losses

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// CTCOptions tunes CTC. The zero value is PyTorch's default: blank 0, Mean,
// infinite losses kept.
type CTCOptions struct {
	// Blank is the class index of the blank symbol, in [0, C).
	Blank int
	// Reduction combines the per-example losses l_b (default Mean):
	//
	//	Mean: (1/B) sum_b l_b / max(L_b, 1), L_b the target length (PyTorch's
	//	      reduction="mean" of ctc_loss, not a mean over frames or labels);
	//	Sum:  sum_b l_b;
	//	None: the (B) losses (PerSequence is the same).
	Reduction Reduction
	// ZeroInfinity replaces infinite losses (no alignment of the target fits
	// the input length) by 0, PyTorch's zero_infinity=True. Their gradient is 0
	// either way.
	ZeroInfinity bool
	// PyTorchGradient makes the gradient with respect to the log-probabilities
	// PyTorch's rather than the true one: PyTorch adds exp(lp) g to every real
	// frame, a term that vanishes once it flows back through a log-softmax
	// (whose backward removes any per-frame multiple of exp(lp)), so that
	// gradients with respect to logits agree either way. The true gradient
	// (the default) is what numeric differentiation of the loss gives.
	PyTorchGradient bool
}

// CTC is the connectionist temporal classification loss (Graves, Fernández,
// Gomez and Schmidhuber, "Connectionist Temporal Classification: Labelling
// Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006): the
// negative log-likelihood
//
//	l_b = -log sum_{pi in B^-1(y_b)} prod_{t < T_b} exp(lp[t, b, pi_t])
//
// of example b's target y_b (its first L_b labels) over its first T_b frames,
// the sum running over every frame-level path pi that gives y_b once repeats
// are merged and blanks dropped (B). It is computed exactly, in float64 and in
// log space, by the forward-backward recursions of the paper over the target
// extended with blanks (blank, y_1, blank, y_2, ..., y_L, blank).
//
// Inputs, as torch.nn.functional.ctc_loss takes them:
//   - logProbs (T, B, C), time-major, float32 or float64: per-frame log
//     probabilities, usually graph.LogSoftMax(logits, 2, nil);
//   - targets (B, S), tensor.Int, padded: row b holds y_b in its first L_b
//     entries, labels in [0, C) other than the blank; padding is ignored;
//   - inputLengths (B), tensor.Int: T_b in [0, T], or nil for T everywhere;
//   - targetLengths (B), tensor.Int: L_b in [0, S], or nil for S everywhere.
//
// Lengths are inputs rather than constants so that one compiled program serves
// every batch of its shape.
//
// The result follows opt.Reduction. A target that no path of T_b frames can
// produce (L_b plus the number of adjacent repeated labels exceeds T_b) has
// l_b = +Inf, or 0 with opt.ZeroInfinity. The gradient, with respect to
// logProbs only, is
//
//	dl_b / dlp[t, b, c] = -gamma_t(c),
//
// gamma_t(c) the posterior probability that a path emits c at frame t, scaled
// by the reduction's weight and the output's gradient; it is exactly 0 on
// padded frames (t >= T_b) and for every example whose loss is infinite (where
// PyTorch gives NaN without zero_infinity). See opt.PyTorchGradient for
// PyTorch's variant.
//
// Gorgonia's own CTCLoss returns NaN gradients on padded batches (its padded
// frames keep -Inf); this one does not use it.
func CTC(logProbs, targets, inputLengths, targetLengths *G.Node, opt CTCOptions) (*G.Node, error) {
	if logProbs == nil || targets == nil {
		return nil, errors.New("ctc: nil input")
	}
	if err := checkFloat("ctc", logProbs); err != nil {
		return nil, err
	}
	if opt.Reduction < Mean || opt.Reduction > PerSequence {
		return nil, errors.Errorf("ctc: unknown reduction %d", int(opt.Reduction))
	}
	k := ctcKernel{opt: opt, inLens: inputLengths != nil, tgtLens: targetLengths != nil}
	in := []*G.Node{logProbs, targets}
	for _, n := range []*G.Node{targets, inputLengths, targetLengths} {
		if n != nil && n.Dtype() != tensor.Int {
			return nil, errors.Errorf("ctc: targets and lengths must be tensor.Int, %s is %v", n.Name(), n.Dtype())
		}
	}
	if inputLengths != nil {
		in = append(in, inputLengths)
	}
	if targetLengths != nil {
		in = append(in, targetLengths)
	}
	out, err := graph.Apply(k, in...)
	return out, errors.Wrap(err, "ctc")
}

// CTCNegLogLikelihood returns -log p(target | logProbs) of one sequence whose
// log-probabilities are the row-major (frames, classes) matrix logProbs, and,
// when grad is not nil (same length as logProbs), adds scale times the
// gradient -gamma_t(c) into it. It is the computation behind CTC for one
// example: +Inf (and no gradient) when no alignment exists; 0 for an empty
// target over zero frames.
func CTCNegLogLikelihood(logProbs []float64, frames, classes int, target []int, blank int, grad []float64, scale float64) (float64, error) {
	if frames < 0 || classes <= 0 || len(logProbs) != frames*classes {
		return 0, errors.Errorf("ctc: %d log-probabilities for %d frames of %d classes", len(logProbs), frames, classes)
	}
	if grad != nil && len(grad) != len(logProbs) {
		return 0, errors.Errorf("ctc: gradient of length %d for %d log-probabilities", len(grad), len(logProbs))
	}
	if err := checkLabels(target, classes, blank); err != nil {
		return 0, err
	}
	var w ctcWork
	return w.nll(seqView{data: logProbs, stride: classes, frames: frames}, classes, target, blank, grad, scale, false), nil
}

// checkLabels validates a target sequence.
func checkLabels(target []int, classes, blank int) error {
	if blank < 0 || blank >= classes {
		return errors.Errorf("ctc: blank %d outside [0, %d)", blank, classes)
	}
	for i, y := range target {
		if y < 0 || y >= classes {
			return errors.Errorf("ctc: label %d at position %d outside [0, %d)", y, i, classes)
		}
		if y == blank {
			return errors.Errorf("ctc: label at position %d is the blank (%d)", i, blank)
		}
	}
	return nil
}

// seqView addresses the frames of one sequence inside a larger array: frame t,
// class c is data[base + t*stride + c].
type seqView struct {
	data   []float64
	base   int
	stride int
	frames int
}

func (v seqView) at(t, c int) float64 { return v.data[v.base+t*v.stride+c] }

// ctcWork holds the buffers of the recursions, reused from one sequence to the
// next.
type ctcWork struct {
	ext         []int
	alpha, beta []float64
}

// logAdd returns log(exp(a) + exp(b)) without overflow; -Inf is the log of 0.
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// minFrames returns the fewest frames that can carry target: one per label
// plus a blank between each pair of equal neighbours.
func minFrames(target []int) int {
	n := len(target)
	for i := 1; i < len(target); i++ {
		if target[i] == target[i-1] {
			n++
		}
	}
	return n
}

// nll runs the recursions over v and returns -log p(target). With grad not
// nil it adds scale * (-gamma_t(c)) to grad at v's layout (plus scale *
// exp(lp) on every frame with torchGrad) when the loss is finite.
//
// alpha_t(s) is the log-probability of the paths over frames 0..t that end in
// state s of the extended target, frame t's emission included; beta_t(s) that
// of the continuations over frames t+1..T-1 from state s, frame t's emission
// excluded. Their sum over the states of class c, minus log p, is log gamma_t(c).
func (w *ctcWork) nll(v seqView, classes int, target []int, blank int, grad []float64, scale float64, torchGrad bool) float64 {
	T, L := v.frames, len(target)
	if T < minFrames(target) {
		return math.Inf(1)
	}
	if T == 0 {
		return 0 // an empty target over no frames: probability 1
	}
	S := 2*L + 1
	w.ext = w.ext[:0]
	for s := 0; s < S; s++ {
		if s%2 == 0 {
			w.ext = append(w.ext, blank)
		} else {
			w.ext = append(w.ext, target[s/2])
		}
	}
	ext := w.ext
	if cap(w.alpha) < T*S {
		w.alpha = make([]float64, T*S)
		w.beta = make([]float64, T*S)
	}
	alpha, beta := w.alpha[:T*S], w.beta[:T*S]
	negInf := math.Inf(-1)
	// skip reports whether state s may be entered from s-2 (skipping a blank).
	skip := func(s int) bool { return s >= 2 && ext[s] != blank && ext[s] != ext[s-2] }

	for s := range S {
		alpha[s] = negInf
	}
	alpha[0] = v.at(0, blank)
	if S > 1 {
		alpha[1] = v.at(0, ext[1])
	}
	for t := 1; t < T; t++ {
		prev, cur := alpha[(t-1)*S:t*S], alpha[t*S:(t+1)*S]
		for s := range S {
			a := prev[s]
			if s >= 1 {
				a = logAdd(a, prev[s-1])
			}
			if skip(s) {
				a = logAdd(a, prev[s-2])
			}
			if math.IsInf(a, -1) {
				cur[s] = negInf
			} else {
				cur[s] = a + v.at(t, ext[s])
			}
		}
	}
	last := alpha[(T-1)*S:]
	logp := last[S-1]
	if S > 1 {
		logp = logAdd(logp, last[S-2])
	}
	if math.IsInf(logp, -1) || math.IsNaN(logp) {
		if math.IsNaN(logp) {
			return math.NaN()
		}
		return math.Inf(1)
	}
	if grad == nil {
		return -logp
	}

	for s := range S {
		beta[(T-1)*S+s] = negInf
	}
	beta[(T-1)*S+S-1] = 0
	if S > 1 {
		beta[(T-1)*S+S-2] = 0
	}
	for t := T - 2; t >= 0; t-- {
		next, cur := beta[(t+1)*S:(t+2)*S], beta[t*S:(t+1)*S]
		for s := range S {
			b := next[s] + v.at(t+1, ext[s])
			if s+1 < S {
				b = logAdd(b, next[s+1]+v.at(t+1, ext[s+1]))
			}
			if s+2 < S && skip(s+2) {
				b = logAdd(b, next[s+2]+v.at(t+1, ext[s+2]))
			}
			cur[s] = b
		}
	}
	for t := range T {
		row := v.base + t*v.stride
		for s := range S {
			e := alpha[t*S+s] + beta[t*S+s]
			if math.IsInf(e, -1) {
				continue
			}
			grad[row+ext[s]] -= scale * math.Exp(e-logp)
		}
		if torchGrad {
			for c := range classes {
				grad[row+c] += scale * math.Exp(v.data[row+c])
			}
		}
	}
	return -logp
}

type ctcKernel struct {
	opt     CTCOptions
	inLens  bool
	tgtLens bool
}

func (k ctcKernel) Key() string {
	return fmt.Sprintf("losses.ctc(blank=%d,%s,zero_inf=%v,torch_grad=%v,in_lens=%v,tgt_lens=%v)",
		k.opt.Blank, k.opt.Reduction, k.opt.ZeroInfinity, k.opt.PyTorchGradient, k.inLens, k.tgtLens)
}

func (k ctcKernel) nIn() int {
	n := 2
	if k.inLens {
		n++
	}
	if k.tgtLens {
		n++
	}
	return n
}

func (k ctcKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, k.nIn()); err != nil {
		return nil, err
	}
	lp, tg := in[0], in[1]
	if lp.Dims() != 3 {
		return nil, errors.Errorf("log-probabilities of shape %v, want (T, B, C)", lp)
	}
	if tg.Dims() != 2 || tg[0] != lp[1] {
		return nil, errors.Errorf("targets of shape %v, want (B, S) with B = %d", tg, lp[1])
	}
	if k.opt.Blank < 0 || k.opt.Blank >= lp[2] {
		return nil, errors.Errorf("blank %d outside [0, %d)", k.opt.Blank, lp[2])
	}
	for _, s := range in[2:] {
		if s.Dims() != 1 || s[0] != lp[1] {
			return nil, errors.Errorf("lengths of shape %v, want (%d)", s, lp[1])
		}
	}
	if k.opt.Reduction == Mean || k.opt.Reduction == Sum {
		return tensor.Shape{}, nil
	}
	return tensor.Shape{lp[1]}, nil
}

func (k ctcKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}

// ctcBatch is a validated batch.
type ctcBatch struct {
	T, B, C, S int
	lp         []float64
	targets    []int
	inLen      []int
	tgtLen     []int
}

func (k ctcKernel) batch(in []*tensor.Dense) (*ctcBatch, error) {
	sh := in[0].Shape()
	bt := &ctcBatch{T: sh[0], B: sh[1], C: sh[2], S: in[1].Shape()[1], lp: values(in[0])}
	var err error
	if bt.targets, err = intValues(in[1]); err != nil {
		return nil, err
	}
	next := 2
	lengths := func(present bool, full int, what string) ([]int, error) {
		if !present {
			l := make([]int, bt.B)
			for i := range l {
				l[i] = full
			}
			return l, nil
		}
		l, err := intValues(in[next])
		next++
		if err != nil {
			return nil, errors.Wrap(err, what)
		}
		for b, n := range l {
			if n < 0 || n > full {
				return nil, errors.Errorf("example %d: %s %d outside [0, %d]", b, what, n, full)
			}
		}
		return l, nil
	}
	if bt.inLen, err = lengths(k.inLens, bt.T, "input length"); err != nil {
		return nil, err
	}
	if bt.tgtLen, err = lengths(k.tgtLens, bt.S, "target length"); err != nil {
		return nil, err
	}
	for b := range bt.B {
		if err := checkLabels(bt.target(b), bt.C, k.opt.Blank); err != nil {
			return nil, errors.Wrapf(err, "example %d", b)
		}
	}
	return bt, nil
}

func (bt *ctcBatch) target(b int) []int { return bt.targets[b*bt.S : b*bt.S+bt.tgtLen[b]] }

func (bt *ctcBatch) view(b int) seqView {
	return seqView{data: bt.lp, base: b * bt.C, stride: bt.B * bt.C, frames: bt.inLen[b]}
}

// weight returns the factor of example b's loss in the reduced output.
func (k ctcKernel) weight(bt *ctcBatch, b int) float64 {
	if k.opt.Reduction == Mean {
		return 1 / (float64(bt.B) * float64(max(bt.tgtLen[b], 1)))
	}
	return 1
}

func (k ctcKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	bt, err := k.batch(in)
	if err != nil {
		return err
	}
	var w ctcWork
	per := make([]float64, bt.B)
	for b := range bt.B {
		l := w.nll(bt.view(b), bt.C, bt.target(b), k.opt.Blank, nil, 0, false)
		if math.IsInf(l, 1) && k.opt.ZeroInfinity {
			l = 0
		}
		per[b] = l
	}
	switch k.opt.Reduction {
	case Mean, Sum:
		var sum float64
		for b, l := range per {
			sum += k.weight(bt, b) * l
		}
		return graph.SetFloat64s(out, []float64{sum})
	}
	return graph.SetFloat64s(out, per)
}

func (k ctcKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	if wrt != 0 {
		return errors.Errorf("no gradient with respect to input %d", wrt)
	}
	bt, err := k.batch(in)
	if err != nil {
		return err
	}
	gs := values(gradOut)
	acc := make([]float64, len(bt.lp))
	var w ctcWork
	for b := range bt.B {
		g := gs[0]
		if k.opt.Reduction == None || k.opt.Reduction == PerSequence {
			g = gs[b]
		}
		// an infinite loss has a zero gradient, with or without ZeroInfinity
		w.nll(bt.view(b), bt.C, bt.target(b), k.opt.Blank, acc, g*k.weight(bt, b), k.opt.PyTorchGradient)
	}
	return graph.SetFloat64s(grad, acc)
}

// Overwrites implements graph.Overwriter: the losses and the gradient are
// written whole.
func (ctcKernel) Overwrites(int) bool { return true }
