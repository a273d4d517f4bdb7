package train

import (
	"os"
	"path/filepath"

	"github.com/triadml/triad/graph"
)

// ExpectParams makes the parameters later created in s be checked, before they
// are allocated, against the header of the checkpoint LoadParams would read
// (graph.Store.ExpectCheckpoint): building a model from a run's config.json
// after it fails at the first parameter whose name or shape the checkpoint does
// not have, instead of allocating what a wrong or altered config asks for.
func ExpectParams(runDir string, s *graph.Store) error {
	best := filepath.Join(runDir, "checkpoints", bestName)
	if _, err := os.Stat(best); err == nil {
		return s.ExpectCheckpoint(best, "")
	}
	return s.ExpectCheckpoint(filepath.Join(runDir, "checkpoints", lastName), "param/")
}
