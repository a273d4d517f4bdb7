package lm

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train"
)

// A run whose config.json asks for a model far larger than its checkpoint fails
// to load with an error naming a parameter, without allocating the model.
func TestLoadConfigDisagreesWithCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), tinyConfig(fixture(t), out), io.Discard)
	require.NoError(t, err)

	path := filepath.Join(out, "config.json")
	fields := testenv.ReadJSON[map[string]any](t, path)
	fields["hidden"] = 100000
	require.NoError(t, train.WriteJSON(path, fields))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Load(out)
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	require.True(t, train.IsUsage(err), "%v", err)
	require.Contains(t, err.Error(), "parameter")
	require.Contains(t, err.Error(), "best.safetensors")
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(100<<20), "bytes allocated by the failed Load")
}
