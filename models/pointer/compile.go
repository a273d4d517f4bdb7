package pointer

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Gorgonia v0.9.18 numbers a graph's values by each node's 32-bit hash alone,
// so two different nodes whose hashes collide are merged and the program
// computes nonsense; graph.Compile refuses such a graph (graph.ErrHashCollision).
// In an unrolled encoder-decoder of thousands of nodes it happens now and then.
// The package's programs are therefore built with compileSalted, which builds a
// colliding graph again with a suffix ("#1", "#2", ...) on the names of its
// inputs: that changes the hash of every node depending on an input.

// maxSalts is how many differently salted builds are tried.
const maxSalts = 8

// saltName returns the graph name of input name under salt (name itself for 0).
func saltName(name string, salt int) string {
	if salt == 0 {
		return name
	}
	return fmt.Sprintf("%s#%d", name, salt)
}

// saltedBuilder declares inputs under salted names.
type saltedBuilder struct {
	*graph.Builder
	salt int
}

func (b saltedBuilder) in(name string, dtype tensor.Dtype, shape ...int) *G.Node {
	return b.Input(saltName(name, b.salt), dtype, shape...)
}

// saltedProgram is a compiled program with the salt of its input names.
type saltedProgram struct {
	*graph.Program
	salt int
}

// set feeds input name (unsalted).
func (p saltedProgram) set(name string, v *tensor.Dense) error {
	return p.Program.Set(saltName(name, p.salt), v)
}

// compileSalted calls build with salt 0, 1, ... until its graph has no two nodes
// with the same hash.
func compileSalted(build func(b saltedBuilder) (*graph.Program, error)) (saltedProgram, error) {
	var clash string
	for salt := 0; salt < maxSalts; salt++ {
		p, err := build(saltedBuilder{salt: salt})
		if errors.Is(err, graph.ErrHashCollision) {
			clash = err.Error()
			continue
		}
		if err != nil {
			return saltedProgram{}, err
		}
		return saltedProgram{Program: p, salt: salt}, nil
	}
	return saltedProgram{}, errors.Errorf("graph nodes keep sharing a hash after %d builds (last: %s)", maxSalts, clash)
}
