package graph

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Param is a named trainable tensor. Its Value is bound by pointer into every graph
// built from its store; Grad accumulates the gradients of the programs run since the
// last solver step (solvers zero it after updating Value).
type Param struct {
	Name  string
	Value *tensor.Dense
	Grad  *tensor.Dense
}

// Shape returns the parameter's shape.
func (p *Param) Shape() tensor.Shape { return p.Value.Shape() }

// Size returns the number of scalars in the parameter.
func (p *Param) Size() int { return p.Value.Shape().TotalSize() }

// ZeroGrad sets the accumulated gradient to zero.
func (p *Param) ZeroGrad() { p.Grad.Zero() }

type storeCore struct {
	dtype  tensor.Dtype
	rng    *rand.Rand
	byName map[string]*Param
	list   []*Param
	expect *expectation // set by ExpectCheckpoint
	arena  *Arena       // lent to every program compiled over the store
}

// Store holds a model's parameters by name, independently of any graph. Names follow
// PyTorch's state_dict keys ("encoder.layers.0.linear1.weight") so weights move
// between the two. A Store made by Sub shares its parameters with its parent and
// prefixes the names it creates.
type Store struct {
	core   *storeCore
	prefix string
}

// NewStore returns an empty store of the given dtype (tensor.Float32 or
// tensor.Float64) whose initialisers draw from rng.
func NewStore(dtype tensor.Dtype, rng *rand.Rand) *Store {
	if dtype != tensor.Float32 && dtype != tensor.Float64 {
		panic(fmt.Sprintf("graph: unsupported parameter dtype %v", dtype))
	}
	return &Store{core: &storeCore{dtype: dtype, rng: rng, byName: map[string]*Param{}, arena: NewArena()}}
}

// Dtype returns the dtype of every parameter in the store.
func (s *Store) Dtype() tensor.Dtype { return s.core.dtype }

// RNG returns the initialisation stream of the store.
func (s *Store) RNG() *rand.Rand { return s.core.rng }

// Arena returns the arena that the programs compiled over the store share.
func (s *Store) Arena() *Arena { return s.core.arena }

// Sub returns a view of the store that prefixes the names it creates with
// prefix + ".". Lookups through the view are relative to the prefix too.
func (s *Store) Sub(prefix string) *Store {
	return &Store{core: s.core, prefix: s.join(prefix)}
}

// Prefix returns the name prefix of this view ("" for the root).
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) join(name string) string {
	if s.prefix == "" {
		return name
	}
	return s.prefix + "." + name
}

// New creates a parameter of the given shape initialised by init. It returns an
// error when the name is taken or the shape is empty.
func (s *Store) New(name string, shape []int, init Initializer) (*Param, error) {
	full := s.join(name)
	if _, ok := s.core.byName[full]; ok {
		return nil, errors.Errorf("graph: parameter %q already exists", full)
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, errors.Errorf("graph: parameter %q has invalid shape %v", full, shape)
		}
		n *= d
	}
	if len(shape) == 0 {
		return nil, errors.Errorf("graph: parameter %q needs at least one dimension", full)
	}
	if err := s.core.expect.check(full, shape); err != nil {
		return nil, err
	}
	if init == nil {
		init = Zeros()
	}
	value, err := initialValue(s.core.dtype, s.core.rng, init, shape, n)
	if err != nil {
		return nil, errors.Wrapf(err, "graph: initialising %q", full)
	}
	p := &Param{
		Name:  full,
		Value: value,
		Grad:  tensor.New(tensor.Of(s.core.dtype), tensor.WithShape(shape...)),
	}
	s.core.byName[full] = p
	s.core.list = append(s.core.list, p)
	return p, nil
}

// initialValue returns a tensor of dtype and shape (n elements) filled by init
// from rng: an elementwise initializer's float32 values a block of float64 draws
// at a time, the same draws in the same order as a whole.
func initialValue(dtype tensor.Dtype, rng *rand.Rand, init Initializer, shape []int, n int) (*tensor.Dense, error) {
	if _, ok := init.(elementwise); ok && dtype == tensor.Float32 {
		f := make([]float32, n)
		block := make([]float64, min(n, 1<<14))
		for lo := 0; lo < n; lo += len(block) {
			b := block[:min(len(block), n-lo)]
			if err := init.Fill(rng, shape, b); err != nil {
				return nil, err
			}
			for i, v := range b {
				f[lo+i] = float32(v)
			}
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f)), nil
	}
	vals := make([]float64, n)
	if err := init.Fill(rng, shape, vals); err != nil {
		return nil, err
	}
	if dtype == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals)), nil
	}
	return FromFloat64s(dtype, vals, shape...), nil
}

// Must is New that panics on error; for model constructors whose names and shapes
// are fixed by code.
func (s *Store) Must(name string, shape []int, init Initializer) *Param {
	p, err := s.New(name, shape, init)
	if err != nil {
		panic(err)
	}
	return p
}

// Get returns the parameter with the given name (relative to this view).
func (s *Store) Get(name string) (*Param, bool) {
	p, ok := s.core.byName[s.join(name)]
	return p, ok
}

// Params returns the parameters under this view in creation order.
func (s *Store) Params() []*Param {
	if s.prefix == "" {
		return append([]*Param(nil), s.core.list...)
	}
	var out []*Param
	for _, p := range s.core.list {
		if len(p.Name) > len(s.prefix) && p.Name[:len(s.prefix)+1] == s.prefix+"." {
			out = append(out, p)
		}
	}
	return out
}

// Names returns the parameter names under this view, sorted.
func (s *Store) Names() []string {
	ps := s.Params()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	sort.Strings(names)
	return names
}

// Count returns the number of scalars in the parameters under this view.
func (s *Store) Count() int {
	n := 0
	for _, p := range s.Params() {
		n += p.Size()
	}
	return n
}

// ZeroGrads zeroes the accumulated gradient of every parameter under this view.
func (s *Store) ZeroGrads() {
	for _, p := range s.Params() {
		p.ZeroGrad()
	}
}

// FromFloat64s returns a new dense tensor of dtype holding vals (converted).
func FromFloat64s(dtype tensor.Dtype, vals []float64, shape ...int) *tensor.Dense {
	switch dtype {
	case tensor.Float64:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
	case tensor.Float32:
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	panic(fmt.Sprintf("graph: unsupported dtype %v", dtype))
}

// SetFloat64s copies vals into the float tensor dst of as many elements,
// converting them to its dtype (float32 rounds to nearest).
func SetFloat64s(dst *tensor.Dense, vals []float64) error {
	return Dispatch(dst.Dtype(),
		func() {
			d := Slice[float32](dst)[:len(vals)]
			for i, v := range vals {
				d[i] = float32(v)
			}
		},
		func() { copy(Slice[float64](dst), vals) })
}

// Float64s returns the values of a float32 or float64 tensor as a new []float64.
func Float64s(t tensor.Tensor) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	panic(fmt.Sprintf("graph: Float64s of unsupported dtype %v", t.Dtype()))
}
