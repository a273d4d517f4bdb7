package main

import (
	"io"
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

func TestVersionAndCompletion(t *testing.T) {
	require.Equal(t, 0, run([]string{"version"}))
	require.Equal(t, 0, run([]string{"completion", "bash"}))
	require.Equal(t, 2, run([]string{"completion", "fish"}))
	words := capture(t, &os.Stdout, func() { require.Equal(t, 0, run([]string{"__complete"})) })
	require.Contains(t, words, "lm\n")
	require.Contains(t, words, "version\n")
	words = capture(t, &os.Stdout, func() { require.Equal(t, 0, run([]string{"__complete", "lm"})) })
	require.Contains(t, words, "sample\n")
	require.Contains(t, words, "--hidden\n")
	require.Contains(t, words, "--threads\n")
}

// capture returns what f writes to *file (os.Stdout or os.Stderr), which it
// points at a pipe while f runs.
func capture(t *testing.T, file **os.File, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := *file
	*file = w
	done := make(chan string)
	go func() {
		raw, _ := io.ReadAll(r)
		done <- string(raw)
	}()
	defer func() { *file = saved }()
	f()
	*file = saved
	w.Close()
	return <-done
}
