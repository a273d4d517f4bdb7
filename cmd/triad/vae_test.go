package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/experiments/vae"
)

// TestVAECommandMatchesRun runs `triad vae` and vae.Run with the same short
// settings on MNIST and requires byte-identical metrics. It skips when MNIST is
// not in $TRIAD_DATA or ../shared/data (and never downloads it).
func TestVAECommandMatchesRun(t *testing.T) {
	t.Setenv(datasets.EnvOffline, "1")
	if os.Getenv(datasets.EnvData) == "" {
		if shared, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data")); err == nil {
			t.Setenv(datasets.EnvData, shared)
		}
	}
	if _, err := datasets.Find("mnist"); err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	cmd, pkg := t.TempDir(), t.TempDir()
	require.Equal(t, 0, run([]string{"vae", "--out", cmd, "--max-steps", "3", "--log-every", "1", "--eval-every", "2",
		"--hidden", "8", "--latent", "2", "--batch", "500", "--iwae-k", "1,4", "--iwae-max-samples", "8", "--threads", "1"}))

	cfg := vae.DefaultConfig()
	cfg.Out, cfg.MaxSteps, cfg.LogEvery, cfg.EvalEvery, cfg.Threads = pkg, 3, 1, 2, 1
	cfg.Hidden, cfg.Latent, cfg.Batch, cfg.IWAEK, cfg.IWAEMaxSamples = "8", 2, 500, "1,4", 8
	sum, err := vae.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 3, sum.Steps)
	a, err := os.ReadFile(filepath.Join(cmd, "metrics.jsonl"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(pkg, "metrics.jsonl"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
}

func TestVAEFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"vae", "--hidden", "400,x"},
		{"vae", "--likelihood", "poisson"},
		{"vae", "--batch", "0"},
		{"vae", "--iwae-k", "0"},
		{"vae", "--learn-sigma"},
		{"vae", "--activation", "swish"},
	} {
		require.Equal(t, 2, run(args), "%v", args)
	}
}
