package graph

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia's compiler numbers values by a node's 32-bit hash alone
// (gorgonia v0.9.18, analysis.go, dataflow.vn): two different nodes of a graph
// whose hashes collide are merged into one, and the program computes nonsense or
// fails ("Add failed: Shape mismatch"). Compile refuses such a graph
// (ErrHashCollision). In a graph of thousands of nodes (an unrolled
// encoder-decoder and its gradients) a collision happens now and then, so the
// models build their programs with CompileSalted: a graph with two nodes of equal
// hash is built again with a suffix ("#1", "#2", ...) on the names of its input
// nodes, which changes the hash of every node that depends on an input.

// maxSalts is how many differently salted builds CompileSalted tries.
const maxSalts = 8

// SaltName returns the graph name of input name under salt (name itself for 0).
func SaltName(name string, salt int) string {
	if salt == 0 {
		return name
	}
	return fmt.Sprintf("%s#%d", name, salt)
}

// SaltedBuilder is a Builder that declares inputs under salted names.
type SaltedBuilder struct {
	*Builder
	Salt int
}

// In declares input name (unsalted) as Builder.Input does.
func (b SaltedBuilder) In(name string, dtype tensor.Dtype, shape ...int) *G.Node {
	return b.Input(SaltName(name, b.Salt), dtype, shape...)
}

// SaltedProgram is a compiled program with the salt of its input names.
type SaltedProgram struct {
	*Program
	Salt int
}

// SetInput feeds input name (unsalted).
func (p SaltedProgram) SetInput(name string, v *tensor.Dense) error {
	return p.Program.Set(SaltName(name, p.Salt), v)
}

// SetInputs feeds every input of feeds by unsalted name, in the order of the
// names, leaving out nil values; it stops at the first error.
func (p SaltedProgram) SetInputs(feeds map[string]*tensor.Dense) error {
	names := make([]string, 0, len(feeds))
	for name, v := range feeds {
		if v != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if err := p.SetInput(name, feeds[name]); err != nil {
			return err
		}
	}
	return nil
}

// CompileSalted calls build with salt 0, 1, ... until the program's graph has
// no two nodes with the same hash. build must create its Builder and declare
// its inputs with the SaltedBuilder's In.
func CompileSalted(build func(b SaltedBuilder) (*Program, error)) (SaltedProgram, error) {
	var clash string
	for salt := 0; salt < maxSalts; salt++ {
		p, err := build(SaltedBuilder{Salt: salt})
		if errors.Is(err, ErrHashCollision) {
			clash = err.Error()
			continue
		}
		if err != nil {
			return SaltedProgram{}, err
		}
		return SaltedProgram{Program: p, Salt: salt}, nil
	}
	return SaltedProgram{}, errors.Errorf("graph nodes keep sharing a hash after %d builds (last: %s)", maxSalts, clash)
}
