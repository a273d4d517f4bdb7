package graph

import (
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program is one compiled graph: the graph, its TapeMachine, named inputs, named
// outputs and, for a training program, the loss whose gradients it adds into the
// parameters' Grad on each run. It is built once per static shape and reused.
// A Program is not safe for concurrent use.
type Program struct {
	g       *G.ExprGraph
	vm      G.VM
	inputs  map[string]*G.Node
	random  []*randomInput
	outputs map[string]*tensor.Dense
	names   []string
	loss    *tensor.Dense
	params  []*Param
	mode    Mode
	noise   *rand.Rand
	keyed   bool   // the runs take key and at (SetNoiseAt), not a key of noise
	key     uint64 // see Sampler
	at      int
	arena   *Arena // the store's: programs over one store run one at a time
	live    liveness
}

// Set feeds the named input. The value must have the input's dtype and shape;
// otherwise the error names the input and both shapes or dtypes.
func (p *Program) Set(name string, v *tensor.Dense) error {
	n, ok := p.inputs[name]
	if !ok {
		return errors.Errorf("graph: program has no input %q (inputs: %v)", name, p.InputNames())
	}
	if v == nil {
		return errors.Errorf("graph: input %q: nil value", name)
	}
	if v.Dtype() != n.Dtype() {
		return errors.Errorf("graph: input %q: dtype %v, want %v", name, v.Dtype(), n.Dtype())
	}
	if !v.Shape().Eq(n.Shape()) && !(n.Shape().IsScalar() && v.Shape().TotalSize() == 1) {
		return errors.Errorf("graph: input %q: shape %v, want %v", name, v.Shape(), n.Shape())
	}
	var val G.Value = v
	if n.Shape().IsScalar() {
		var err error
		if val, err = toValue(v, 0); err != nil {
			return errors.Wrapf(err, "graph: input %q", name)
		}
	}
	if err := G.Let(n, val); err != nil {
		return errors.Wrapf(err, "graph: input %q", name)
	}
	return nil
}

// InputNames returns the names of the inputs a caller feeds (random inputs
// excluded), sorted.
func (p *Program) InputNames() []string {
	rnd := map[*G.Node]bool{}
	for _, r := range p.random {
		rnd[r.node] = true
	}
	var names []string
	for name, n := range p.inputs {
		if !rnd[n] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// SetNoise sets the stream random inputs (dropout masks, sampling noise) are drawn
// from: each run draws its key from it (see Sampler). A program with random
// inputs needs one, or SetNoiseAt, before it runs.
func (p *Program) SetNoise(rng *rand.Rand) { p.noise, p.keyed = rng, false }

// SetNoiseAt makes the runs that follow take the values of their random
// inputs from key, starting at counter at (see Sampler), until SetNoise: the
// rows of a batch that several runs share out (shards, or the batches of an
// evaluation) then take the values one run of the whole batch gives them.
func (p *Program) SetNoiseAt(key uint64, at int) { p.key, p.at, p.keyed = key, at, true }

// Run fills the random inputs, executes the graph once and resets the machine. A
// training program adds the gradients of its loss into Param.Grad.
func (p *Program) Run() error {
	if len(p.random) > 0 && p.noise == nil && !p.keyed {
		return errors.New("graph: program has random inputs but no noise stream (SetNoise)")
	}
	if p.arena != nil {
		p.arena.begin()
		defer p.arena.end()
		p.live.start()
	}
	key, at := p.key, p.at
	if len(p.random) > 0 && !p.keyed {
		key, at = p.noise.Uint64(), 0
	}
	for _, r := range p.random {
		buf := nodeBuffer(p.arena, &r.buf, r.node.Dtype(), r.node.Shape(), true, nil)
		r.sample(key, at, buf)
		at += buf.Shape().TotalSize()
		if err := G.Let(r.node, buf); err != nil {
			return errors.Wrapf(err, "graph: random input %q", r.node.Name())
		}
	}
	err := p.vm.RunAll()
	p.vm.Reset()
	return errors.Wrap(err, "graph: run")
}

// Loss returns the loss of the last run of a training program.
func (p *Program) Loss() float64 {
	if p.loss == nil {
		return 0
	}
	return Scalar(p.loss)
}

// Output returns the named output of the last run. The tensor belongs to the
// program and is overwritten by the next run; Clone it to keep it.
func (p *Program) Output(name string) (*tensor.Dense, error) {
	t, ok := p.outputs[name]
	if !ok {
		return nil, errors.Errorf("graph: program has no output %q (outputs: %v)", name, p.names)
	}
	return t, nil
}

// Params returns the parameters the program's graph uses, in first-use order.
func (p *Program) Params() []*Param { return p.params }

// Training reports whether the program computes gradients.
func (p *Program) Training() bool { return p.loss != nil }

// Graph returns the underlying Gorgonia graph (for inspection).
func (p *Program) Graph() *G.ExprGraph { return p.g }

// Close releases the machine's resources.
func (p *Program) Close() error { return p.vm.Close() }
