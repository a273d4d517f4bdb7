package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenchFlags(t *testing.T) {
	require.Equal(t, 0, run([]string{"bench", "--list"}))
	require.Equal(t, 2, run([]string{"bench", "--only", "no-such-config"}))
	require.Equal(t, 2, run([]string{"bench", "--cpuprofile", filepath.Join(t.TempDir(), "cpu.prof")}), "a profile needs --only")
	require.Equal(t, 2, run([]string{"bench", "--steps", "0"}))
}
