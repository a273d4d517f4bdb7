package testenv

import (
	"os"
	"testing"

	"github.com/triadml/triad/internal/poison"
)

// PoisonedMain runs a package's tests with the arena's lent memory filled with
// NaN (poison.Scratch): the TestMain of a package whose kernels take memory
// from the arena, which must write each element before they read it.
func PoisonedMain(m *testing.M) {
	poison.Scratch.Store(true)
	os.Exit(m.Run())
}
