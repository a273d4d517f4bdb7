package graph

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode says what a graph is built for. Layers that behave differently in training
// and evaluation (dropout) read it from the builder.
type Mode int

const (
	// Train builds a graph whose program computes gradients; dropout is on.
	Train Mode = iota
	// Eval builds a forward-only graph; dropout is off.
	Eval
)

// Sampler fills the value of a random input before each run: element i is a
// function of Counter(key, at+i) alone, so that a sampler fills its tensor in
// parallel with the same values for any number of threads. A run takes one
// key (drawn from the program's noise stream, or set by SetNoiseAt) and hands
// its random inputs consecutive counters in the order they were declared, so
// that one input of n elements holds the values of n inputs of one element
// each, and the rows of a batch split over several runs can take the values
// one run of the whole batch gives them.
type Sampler func(key uint64, at int, dst *tensor.Dense)

type randomInput struct {
	node   *G.Node
	buf    *tensor.Dense // its value (a header over the arena's memory in a program with one)
	sample Sampler
}

// Builder assembles one static-shape expression graph. Parameters are bound into it
// by pointer (Param), inputs are declared by name (Input), results by name
// (Output). The first error met while building is kept and returned by Compile, so
// model code can build without checking every step.
type Builder struct {
	// G is the underlying Gorgonia graph, for building with Gorgonia's ops.
	G *G.ExprGraph
	// Store is the parameter store the graph binds.
	Store *Store
	// Mode is Train or Eval.
	Mode Mode

	params  map[*Param]*G.Node
	order   []*Param
	inputs  map[string]*G.Node
	random  []*randomInput
	outputs map[string]*G.Node
	outList []string
	err     error
	counter map[string]int
}

// NewBuilder returns a builder of a new graph over the parameters of store.
func NewBuilder(store *Store, mode Mode) *Builder {
	return &Builder{
		G:       G.NewGraph(),
		Store:   store,
		Mode:    mode,
		params:  map[*Param]*G.Node{},
		inputs:  map[string]*G.Node{},
		outputs: map[string]*G.Node{},
		counter: map[string]int{},
	}
}

// Dtype returns the float dtype of the store's parameters.
func (b *Builder) Dtype() tensor.Dtype { return b.Store.Dtype() }

// Training reports whether the graph is built for training.
func (b *Builder) Training() bool { return b.Mode == Train }

// Fail records err (with context) as the builder's error unless one is already set.
// It returns nil, so that model code can write `return b.Fail(err)`.
func (b *Builder) Fail(err error) *G.Node {
	if err != nil && b.err == nil {
		b.err = err
	}
	return nil
}

// Err returns the first error recorded while building.
func (b *Builder) Err() error { return b.err }

// Check records err (if any) and returns n: `y := b.Check(G.Add(a, c))`.
func (b *Builder) Check(n *G.Node, err error) *G.Node {
	if err != nil {
		return b.Fail(err)
	}
	return n
}

// UniqueName returns prefix followed by a counter, unique within the graph.
func (b *Builder) UniqueName(prefix string) string {
	n := b.counter[prefix]
	b.counter[prefix] = n + 1
	return fmt.Sprintf("%s.%d", prefix, n)
}

// Param returns the node bound to p in this graph, creating it on first use. The
// node's value is p.Value itself, so solver updates are seen by every graph.
func (b *Builder) Param(p *Param) *G.Node {
	if n, ok := b.params[p]; ok {
		return n
	}
	n := G.NewTensor(b.G, p.Value.Dtype(), p.Value.Dims(), G.WithShape(p.Value.Shape()...), G.WithName(p.Name), G.WithValue(p.Value))
	b.params[p] = n
	b.order = append(b.order, p)
	return n
}

// Input declares a named input of fixed dtype and shape, fed by Program.Set before
// each run. A shape of no dimensions declares a scalar.
func (b *Builder) Input(name string, dtype tensor.Dtype, shape ...int) *G.Node {
	if _, ok := b.inputs[name]; ok {
		return b.Fail(errors.Errorf("graph: input %q declared twice", name))
	}
	var n *G.Node
	if len(shape) == 0 {
		n = G.NewScalar(b.G, dtype, G.WithName(name))
	} else {
		n = G.NewTensor(b.G, dtype, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	if err := G.Let(n, NewDense(dtype, shape...)); err != nil && len(shape) > 0 {
		return b.Fail(errors.Wrapf(err, "graph: input %q", name))
	}
	b.inputs[name] = n
	return n
}

// Random declares an input that the program fills before each run from its noise
// stream with sample (dropout masks, VAE noise). It has the store's dtype.
func (b *Builder) Random(name string, sample Sampler, shape ...int) *G.Node {
	n := b.Input(name, b.Dtype(), shape...)
	if n == nil {
		return nil
	}
	b.random = append(b.random, &randomInput{node: n, sample: sample})
	return n
}

// Output names a node whose value the program copies out after each run.
func (b *Builder) Output(name string, n *G.Node) {
	if n == nil {
		return
	}
	if _, ok := b.outputs[name]; ok {
		b.Fail(errors.Errorf("graph: output %q declared twice", name))
		return
	}
	b.outputs[name] = n
	b.outList = append(b.outList, name)
}

// ErrHashCollision reports two different nodes of a graph with the same 32-bit
// hash. Gorgonia v0.9.18's compiler numbers values by that hash alone
// (analysis.go), so it would merge the two and compute nonsense; in a graph of
// tens of thousands of nodes it happens now and then. Building the graph again
// with other input names changes every hash.
var ErrHashCollision = errors.New("graph: two nodes share a hash")

// hashCollision returns two nodes of g with the same hash, if any.
func hashCollision(g *G.ExprGraph) (*G.Node, *G.Node, bool) {
	seen := map[uint32]*G.Node{}
	for _, n := range g.AllNodes() {
		h := n.Hashcode()
		if m, ok := seen[h]; ok && m != n {
			return m, n, true
		}
		seen[h] = n
	}
	return nil, nil, false
}

// CompileLoss compiles a program of the builder's mode: a Train program
// differentiates loss, any other is forward-only.
func (b *Builder) CompileLoss(loss *G.Node) (*Program, error) {
	if b.Mode != Train {
		loss = nil
	}
	return b.Compile(loss)
}

// Compile builds the program. With a non-nil loss (a scalar node) the program is a
// training program: it differentiates the loss with respect to every parameter used
// in the graph and, on each run, adds the gradients into Param.Grad. With a nil
// loss it is a forward-only program.
func (b *Builder) Compile(loss *G.Node) (*Program, error) {
	if b.err != nil {
		return nil, b.err
	}
	p := &Program{
		inputs:  b.inputs,
		random:  b.random,
		outputs: map[string]*tensor.Dense{},
		names:   b.outList,
		params:  b.order,
		mode:    b.Mode,
	}
	// Differentiate before any sink is attached: sinks are not differentiable.
	var grads G.Nodes
	if loss != nil {
		if loss.Shape().TotalSize() != 1 {
			return nil, errors.Errorf("graph: loss must be a scalar, has shape %v", loss.Shape())
		}
		if len(b.order) > 0 {
			wrt := make(G.Nodes, len(b.order))
			for i, prm := range b.order {
				wrt[i] = b.params[prm]
			}
			var err error
			if grads, err = G.Grad(loss, wrt...); err != nil {
				return nil, errors.Wrap(err, "graph: differentiating the loss")
			}
		}
	}
	var sinks G.Nodes
	sink := func(n *G.Node, dst *tensor.Dense, add bool, name string) error {
		s, err := G.ApplyOp(&sinkOp{dst: dst, add: add, in: typeOf(n.Dims(), n.Dtype()), name: name}, n)
		sinks = append(sinks, s)
		return errors.Wrapf(err, "graph: %s", name)
	}
	for _, name := range b.outList {
		n := b.outputs[name]
		buf := NewDense(n.Dtype(), n.Shape()...)
		p.outputs[name] = buf
		if err := sink(n, buf, false, "output "+name); err != nil {
			return nil, err
		}
	}
	if loss != nil {
		p.loss = NewDense(loss.Dtype())
		if err := sink(loss, p.loss, false, "loss"); err != nil {
			return nil, err
		}
		for i, g := range grads {
			if err := sink(g, b.order[i].Grad, true, "gradient of "+b.order[i].Name); err != nil {
				return nil, err
			}
		}
	}
	// Run only what reaches a sink: differentiation also builds gradients of
	// inputs no one needs (a data input's, say), which would otherwise run on
	// every step.
	if len(sinks) == 0 {
		return nil, errors.New("graph: the program has no loss and no outputs")
	}
	p.g = b.G.ExactSubgraphRoots(sinks...)
	if a, c, ok := hashCollision(p.g); ok {
		return nil, errors.Wrapf(ErrHashCollision, "%v and %v", a, c)
	}
	if b.Store != nil {
		p.arena = b.Store.core.arena
		lendArena(p.g, p.arena, loss != nil)
		p.live = traceLiveness(p.g)
	}
	p.vm = G.NewTapeMachine(p.g)
	return p, nil
}
