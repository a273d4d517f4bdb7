package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExitStatus(t *testing.T) {
	require.Equal(t, 0, run([]string{"--help"}))
	require.Equal(t, 2, run([]string{"nonsense"}))
	require.Equal(t, 0, run([]string{"lm", "--help"}))
	require.Equal(t, 2, run([]string{"lm", "--hidden", "many"}), "a bad flag value")
	require.Equal(t, 2, run([]string{"lm", "--no-such-flag"}), "an unknown flag")
	require.Equal(t, 2, run([]string{"lm", "--cell", "elman", "--out", t.TempDir()}), "an unknown cell")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"hiden": 3}`), 0o644))
	require.Equal(t, 2, run([]string{"lm", "--config", bad}), "an unknown config field")
}
