package solvers

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Solver updates parameters in place from their accumulated gradients.
//
// Every implementation keeps its per-parameter state (moment estimates, momentum
// buffers, step counters) keyed by parameter name and creates it lazily the first
// time a parameter is stepped; after that a step allocates nothing. A solver is
// not safe for concurrent use.
type Solver interface {
	// Step updates every parameter's Value from its Grad and then zeroes the Grad.
	// It checks all parameters before changing any: a nil tensor, a dtype other
	// than float32/float64, Value and Grad of different shape or dtype, a
	// parameter listed twice, or state of another shape or dtype under the same
	// name returns an error and leaves every parameter and all state untouched.
	Step(params []*graph.Param) error
	// LR returns the current learning rate.
	LR() float64
	// SetLR sets the learning rate used by the following steps (a schedule calls it
	// before each step). Step refuses a negative or non-finite rate.
	SetLR(lr float64)
	// State returns a copy of everything needed to resume bitwise: per-parameter
	// buffers named "<param name>.<buffer>" (buffer names as in PyTorch's
	// optimizer state, e.g. "fc.weight.exp_avg"), of the parameter's shape and
	// dtype, and each parameter's step counter as a 1-element float64 tensor
	// "<param name>.step". The learning rate is not part of it: it belongs to the
	// schedule (or the Plateau state) that sets it.
	State() map[string]*tensor.Dense
	// LoadState replaces the solver's state with a copy of st, as written by
	// State. It checks every key names a buffer this solver (with its
	// configuration) keeps, that each parameter has a step counter and all its
	// buffers, and that a parameter's buffers share one shape and dtype; the error
	// names the first mismatch in key order and the solver is left unchanged.
	// Shapes and dtypes are checked against the parameters themselves at the next
	// Step (see also MatchState).
	LoadState(st map[string]*tensor.Dense) error
}

// float is the element type of parameters and solver state.
type float interface{ ~float32 | ~float64 }

// stepKey is the buffer name of a parameter's step counter.
const stepKey = "step"

// slot is the solver state of one parameter.
type slot struct {
	dtype tensor.Dtype
	shape []int
	step  int64       // steps taken; 0 for a slot created by a step that failed its checks
	f32   [][]float32 // buffers by index (float32 parameters)
	f64   [][]float64 // buffers by index (float64 parameters)
	stamp uint64      // call number of the last Step that listed the parameter
}

// store holds the slots of a solver and the names of the buffers each slot has.
type store struct {
	kind    string    // solver name for messages, e.g. "Adam"
	bufs    []string  // buffer names in index order
	init    []float64 // initial value of each buffer
	slots   map[string]*slot
	stamp   uint64
	scratch []*slot // slots of the parameters of the current Step, reused
}

func newStore(kind string, bufs []string, init []float64) store {
	return store{kind: kind, bufs: bufs, init: init, slots: map[string]*slot{}}
}

// checkLR returns an error when lr cannot be used for a step.
func (s *store) checkLR(lr float64) error { return validate(s.kind, lr) }

// validate checks the hyperparameters of a solver called kind: the learning
// rate lr, then the results of the checks of the others (nonNeg,
// finiteNonNeg, inUnit) in order. It returns the first failure.
func validate(kind string, lr float64, checks ...error) error {
	err := finiteNonNeg("learning rate", lr)
	for i := 0; err == nil && i < len(checks); i++ {
		err = checks[i]
	}
	if err != nil {
		return errors.Errorf("solvers: %s %v", kind, err)
	}
	return nil
}

// nonNeg returns an error naming the hyperparameter unless v >= 0.
func nonNeg(name string, v float64) error {
	if v >= 0 {
		return nil
	}
	return errors.Errorf("%s %v must be non-negative", name, v)
}

// finiteNonNeg returns an error naming the hyperparameter unless 0 <= v < +Inf.
func finiteNonNeg(name string, v float64) error {
	if v >= 0 && !math.IsInf(v, 1) {
		return nil
	}
	return errors.Errorf("%s %v must be finite and non-negative", name, v)
}

// inUnit returns an error naming the hyperparameter unless 0 <= v < 1.
func inUnit(name string, v float64) error {
	if v >= 0 && v < 1 {
		return nil
	}
	return errors.Errorf("%s %v must be in [0, 1)", name, v)
}

// prepare checks params and returns the slot of each (creating missing ones) in
// s.scratch, in the order of params. It changes no parameter; a slot it creates
// has step 0, which State omits and which behaves like no slot at all.
func (s *store) prepare(params []*graph.Param) ([]*slot, error) {
	s.stamp++
	s.scratch = s.scratch[:0]
	for i, p := range params {
		if p == nil {
			return nil, errors.Errorf("solvers: %s step: parameter %d is nil", s.kind, i)
		}
		if err := checkParam(p); err != nil {
			return nil, errors.Wrapf(err, "solvers: %s step", s.kind)
		}
		sl := s.slots[p.Name]
		if sl == nil || (sl.step == 0 && sl.shape != nil &&
			(sl.dtype != p.Value.Dtype() || !slices.Equal(sl.shape, p.Value.Shape()))) {
			// New, or never stepped (left by a failed step): start afresh.
			sl = s.newSlot(p.Value.Dtype(), p.Value.Shape())
			s.slots[p.Name] = sl
		} else if sl.shape == nil {
			// Loaded for a solver without buffers: adopt the parameter's layout.
			sl.dtype, sl.shape = p.Value.Dtype(), append([]int(nil), p.Value.Shape()...)
		} else if sl.dtype != p.Value.Dtype() || !slices.Equal(sl.shape, p.Value.Shape()) {
			return nil, errors.Errorf("solvers: %s step: state of %q is %v %v but the parameter is %v %v",
				s.kind, p.Name, sl.dtype, tensor.Shape(sl.shape), p.Value.Dtype(), p.Value.Shape())
		}
		if sl.stamp == s.stamp {
			return nil, errors.Errorf("solvers: %s step: parameter %q listed twice", s.kind, p.Name)
		}
		sl.stamp = s.stamp
		s.scratch = append(s.scratch, sl)
	}
	return s.scratch, nil
}

// checkParam checks that p's Value and Grad are contiguous float tensors of one
// dtype and shape.
func checkParam(p *graph.Param) error {
	if p.Value == nil || p.Grad == nil {
		return errors.Errorf("parameter %q has a nil Value or Grad", p.Name)
	}
	dt := p.Value.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("parameter %q has dtype %v, want float32 or float64", p.Name, dt)
	}
	if p.Grad.Dtype() != dt {
		return errors.Errorf("parameter %q has a %v value but a %v gradient", p.Name, dt, p.Grad.Dtype())
	}
	if !slices.Equal(p.Value.Shape(), p.Grad.Shape()) {
		return errors.Errorf("parameter %q has value shape %v but gradient shape %v", p.Name, p.Value.Shape(), p.Grad.Shape())
	}
	n := p.Value.Shape().TotalSize()
	if len(p.Value.Shape()) == 0 || p.Value.DataSize() != n || p.Grad.DataSize() != n ||
		p.Value.RequiresIterator() || p.Grad.RequiresIterator() {
		return errors.Errorf("parameter %q is not a contiguous tensor of at least one dimension", p.Name)
	}
	return nil
}

// newSlot returns a slot with every buffer allocated and set to its initial value.
func (s *store) newSlot(dt tensor.Dtype, shape []int) *slot {
	sl := &slot{dtype: dt, shape: append([]int(nil), shape...)}
	n := tensor.Shape(shape).TotalSize()
	switch dt {
	case tensor.Float32:
		sl.f32 = make([][]float32, len(s.bufs))
		for i := range s.bufs {
			sl.f32[i] = make([]float32, n)
			fill(sl.f32[i], float32(s.init[i]))
		}
	case tensor.Float64:
		sl.f64 = make([][]float64, len(s.bufs))
		for i := range s.bufs {
			sl.f64[i] = make([]float64, n)
			fill(sl.f64[i], s.init[i])
		}
	}
	return sl
}

func fill[T float](x []T, v T) {
	if v == 0 {
		clear(x)
		return
	}
	for i := range x {
		x[i] = v
	}
}

// state implements Solver.State for a store.
func (s *store) state() map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense, len(s.slots)*(len(s.bufs)+1))
	for name, sl := range s.slots {
		if sl.step == 0 {
			continue
		}
		for i, b := range s.bufs {
			var t *tensor.Dense
			if sl.dtype == tensor.Float32 {
				t = tensor.New(tensor.WithShape(sl.shape...), tensor.WithBacking(append([]float32(nil), sl.f32[i]...)))
			} else {
				t = tensor.New(tensor.WithShape(sl.shape...), tensor.WithBacking(append([]float64(nil), sl.f64[i]...)))
			}
			out[name+"."+b] = t
		}
		out[name+"."+stepKey] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(sl.step)}))
	}
	return out
}

// splitKey splits "<param name>.<buffer>" at its last dot.
func splitKey(key string) (name, buf string, ok bool) {
	i := strings.LastIndexByte(key, '.')
	if i <= 0 || i == len(key)-1 {
		return "", "", false
	}
	return key[:i], key[i+1:], true
}

// stepValue reads a step counter: one element, a non-negative integer.
func stepValue(t *tensor.Dense) (int64, error) {
	var v float64
	switch d := t.Data().(type) {
	case float64:
		v = d
	case float32:
		v = float64(d)
	case int64:
		v = float64(d)
	case int:
		v = float64(d)
	case []float64:
		if len(d) != 1 {
			return 0, errors.Errorf("has %d elements, want 1", len(d))
		}
		v = d[0]
	case []float32:
		if len(d) != 1 {
			return 0, errors.Errorf("has %d elements, want 1", len(d))
		}
		v = float64(d[0])
	case []int64:
		if len(d) != 1 {
			return 0, errors.Errorf("has %d elements, want 1", len(d))
		}
		v = float64(d[0])
	case []int:
		if len(d) != 1 {
			return 0, errors.Errorf("has %d elements, want 1", len(d))
		}
		v = float64(d[0])
	default:
		return 0, errors.Errorf("has dtype %v, want float64, float32 or an integer", t.Dtype())
	}
	if !(v >= 0) || v != math.Trunc(v) || v > 1<<53 {
		return 0, errors.Errorf("is %v, want a non-negative integer", v)
	}
	return int64(v), nil
}

// load implements Solver.LoadState for a store.
func (s *store) load(st map[string]*tensor.Dense) error {
	type pending struct {
		step    int64
		hasStep bool
		bufs    []*tensor.Dense
	}
	groups := map[string]*pending{}
	var names []string
	for _, k := range slices.Sorted(maps.Keys(st)) {
		t := st[k]
		name, buf, ok := splitKey(k)
		if !ok {
			return errors.Errorf("solvers: %s state: key %q is not \"<parameter>.<buffer>\"", s.kind, k)
		}
		if t == nil {
			return errors.Errorf("solvers: %s state: %q is nil", s.kind, k)
		}
		g := groups[name]
		if g == nil {
			g = &pending{bufs: make([]*tensor.Dense, len(s.bufs))}
			groups[name] = g
			names = append(names, name)
		}
		if buf == stepKey {
			n, err := stepValue(t)
			if err != nil {
				return errors.Wrapf(err, "solvers: %s state: step counter %q", s.kind, k)
			}
			g.step, g.hasStep = n, true
			continue
		}
		idx := -1
		for i, b := range s.bufs {
			if b == buf {
				idx = i
			}
		}
		if idx < 0 {
			return errors.Errorf("solvers: %s state: key %q: this solver keeps no buffer %q (it keeps %s)",
				s.kind, k, buf, strings.Join(append(append([]string(nil), s.bufs...), stepKey), ", "))
		}
		if dt := t.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return errors.Errorf("solvers: %s state: %q has dtype %v, want float32 or float64", s.kind, k, dt)
		}
		if len(t.Shape()) == 0 || t.DataSize() != t.Shape().TotalSize() || t.RequiresIterator() {
			return errors.Errorf("solvers: %s state: %q is not a contiguous tensor of at least one dimension", s.kind, k)
		}
		g.bufs[idx] = t
	}
	sort.Strings(names)

	slots := make(map[string]*slot, len(names))
	for _, name := range names {
		g := groups[name]
		if !g.hasStep {
			return errors.Errorf("solvers: %s state: %q has no step counter %q", s.kind, name, name+"."+stepKey)
		}
		var ref *tensor.Dense
		refKey := ""
		for i, b := range s.bufs {
			t := g.bufs[i]
			key := name + "." + b
			if t == nil {
				return errors.Errorf("solvers: %s state: %q is missing", s.kind, key)
			}
			if ref == nil {
				ref, refKey = t, key
				continue
			}
			if t.Dtype() != ref.Dtype() || !slices.Equal(t.Shape(), ref.Shape()) {
				return errors.Errorf("solvers: %s state: %q is %v %v but %q is %v %v",
					s.kind, key, t.Dtype(), t.Shape(), refKey, ref.Dtype(), ref.Shape())
			}
		}
		if ref == nil {
			// A solver without buffers (plain SGD) keeps only step counters; the
			// slot's dtype and shape are taken from the parameter at the next step.
			slots[name] = &slot{step: g.step}
			continue
		}
		sl := &slot{dtype: ref.Dtype(), shape: append([]int(nil), ref.Shape()...), step: g.step}
		for i := range s.bufs {
			switch sl.dtype {
			case tensor.Float32:
				sl.f32 = append(sl.f32, append([]float32(nil), g.bufs[i].Float32s()...))
			case tensor.Float64:
				sl.f64 = append(sl.f64, append([]float64(nil), g.bufs[i].Float64s()...))
			}
		}
		slots[name] = sl
	}
	s.slots = slots
	return nil
}

// MatchState checks a saved solver state against the parameters it is to resume:
// every parameter has a step counter "<name>.step", every other key is
// "<name>.<buffer>" for one of the parameters and has that parameter's shape and
// dtype. The error names the first mismatch (parameters in the given order, then
// keys in sorted order). Use it before Solver.LoadState when resuming, so that a
// renamed or reshaped parameter is reported instead of silently starting afresh.
func MatchState(st map[string]*tensor.Dense, params []*graph.Param) error {
	byName := make(map[string]*graph.Param, len(params))
	for i, p := range params {
		if p == nil || p.Value == nil {
			return errors.Errorf("solvers: match state: parameter %d is nil", i)
		}
		byName[p.Name] = p
	}
	for _, p := range params {
		if _, ok := st[p.Name+"."+stepKey]; !ok {
			return errors.Errorf("solvers: match state: no state for parameter %q (no %q)", p.Name, p.Name+"."+stepKey)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st)) {
		name, buf, ok := splitKey(k)
		if !ok {
			return errors.Errorf("solvers: match state: key %q is not \"<parameter>.<buffer>\"", k)
		}
		p, ok := byName[name]
		if !ok {
			return errors.Errorf("solvers: match state: %q belongs to no parameter", k)
		}
		t := st[k]
		if t == nil {
			return errors.Errorf("solvers: match state: %q is nil", k)
		}
		if buf == stepKey {
			continue
		}
		if t.Dtype() != p.Value.Dtype() || !slices.Equal(t.Shape(), p.Value.Shape()) {
			return errors.Errorf("solvers: match state: %q is %v %v but parameter %q is %v %v",
				k, t.Dtype(), t.Shape(), p.Name, p.Value.Dtype(), p.Value.Shape())
		}
	}
	return nil
}

// base is what every solver keeps: its configuration, the learning rate, the
// per-parameter state and its update in each float type. Embedding it gives a
// solver Config and every method of Solver.
type base[C any] struct {
	cfg C
	lr  float64
	st  store
	f32 update[float32]
	f64 update[float64]
}

// newBase returns the base of a solver called kind whose state holds the
// buffers bufs, starting at init, and whose steps apply f32 or f64.
func newBase[C any](kind string, cfg C, lr float64, bufs []string, init []float64,
	f32 update[float32], f64 update[float64]) base[C] {
	return base[C]{cfg: cfg, lr: lr, st: newStore(kind, bufs, init), f32: f32, f64: f64}
}

// Config returns the configuration the solver was made with.
func (b *base[C]) Config() C { return b.cfg }

// LR implements Solver.
func (b *base[C]) LR() float64 { return b.lr }

// SetLR implements Solver.
func (b *base[C]) SetLR(lr float64) { b.lr = lr }

// State implements Solver.
func (b *base[C]) State() map[string]*tensor.Dense { return b.st.state() }

// LoadState implements Solver.
func (b *base[C]) LoadState(st map[string]*tensor.Dense) error { return b.st.load(st) }

// update is one solver's step over one parameter in one float type: the
// learning rate, its weights w and gradient g, its state buffers and the count
// of its steps including this one.
type update[T float] func(lr float64, w, g []T, bufs [][]T, step int64)

// Step implements Solver: it checks the learning rate and the parameters, then
// counts a step of every parameter and applies the update of its dtype.
func (b *base[C]) Step(params []*graph.Param) error {
	if err := b.st.checkLR(b.lr); err != nil {
		return err
	}
	slots, err := b.st.prepare(params)
	if err != nil {
		return err
	}
	for i, p := range params {
		sl := slots[i]
		sl.step++
		switch sl.dtype {
		case tensor.Float32:
			b.f32(b.lr, p.Value.Float32s(), p.Grad.Float32s(), sl.f32, sl.step)
		case tensor.Float64:
			b.f64(b.lr, p.Value.Float64s(), p.Grad.Float64s(), sl.f64, sl.step)
		}
	}
	return nil
}
