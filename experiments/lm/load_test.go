package lm

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/train"
)

// A run whose config.json asks for a model far larger than its checkpoint fails
// to load with an error naming a parameter, without allocating the model.
func TestLoadConfigDisagreesWithCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), tinyConfig(fixture(t), out), io.Discard)
	require.NoError(t, err)

	path := filepath.Join(out, "config.json")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	fields["hidden"] = 100000
	raw, err = json.Marshal(fields)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o644))

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
