package demo_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/triadml/triad/experiments/demo"
)

// A few steps of a small model, then the run loaded to normalise two dates.
func Example() {
	dir, err := os.MkdirTemp("", "demo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	cfg := demo.DefaultConfig()
	cfg.Out = filepath.Join(dir, "run")
	cfg.MaxSteps, cfg.EvalEvery, cfg.Batch = 4, 4, 8
	cfg.TestSize, cfg.BeamEval, cfg.Examples = 20, 0, 0
	cfg.Embed, cfg.Hidden, cfg.AttnDim = 8, 8, 8
	sum, err := demo.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", sum.Steps, "held-out dates:", sum.Results.TestSize)

	m, err := demo.Load(sum.Dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	iso, err := m.Normalize([]string{"28. November 2026", "the 1st of may 1999"}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(iso), "dates normalised")
	// Output:
	// steps: 4 held-out dates: 20
	// 2 dates normalised
}
