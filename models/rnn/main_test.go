package rnn

import (
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

// TestMain runs the package's tests with the arena's memory poisoned: the
// kernels that take memory from it must write each element before they read it.
func TestMain(m *testing.M) { testenv.PoisonedMain(m) }
