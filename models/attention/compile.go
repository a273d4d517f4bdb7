package attention

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Gorgonia's compiler numbers values by a node's 32-bit hash alone
// (gorgonia v0.9.18, analysis.go, dataflow.vn): two different nodes of a graph
// whose hashes collide are merged into one, and the program computes nonsense or
// fails ("Add failed: Shape mismatch"). In a graph of thousands of nodes (an
// unrolled encoder-decoder and its gradients) a collision happens now and then.
// The programs of this package are therefore compiled with compileSalted: a
// graph with two nodes of equal hash is built again with a suffix ("#1", "#2", ...)
// on the names of its input nodes, which changes the hash of every node that
// depends on an input.

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

// compileSalted calls build with salt 0, 1, ... until the program's graph has no
// two nodes with the same hash.
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
