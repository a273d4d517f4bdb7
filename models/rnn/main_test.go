package rnn

import (
	"os"
	"testing"

	"github.com/triadml/triad/internal/poison"
)

// TestMain runs the package's tests with the arena's memory poisoned: the fused
// kernels take their activations and gradients from it every pass, and must
// write each element before they read it.
func TestMain(m *testing.M) {
	poison.Scratch.Store(true)
	os.Exit(m.Run())
}
