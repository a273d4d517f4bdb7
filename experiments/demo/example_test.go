package demo_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/triadml/triad/experiments/demo"
	"github.com/triadml/triad/internal/testenv"
)

// A few steps of a small model, then the run loaded to normalise two dates.
func Example() {
	dir, remove := testenv.TempDir("demo")
	defer remove()
	cfg := demo.DefaultConfig()
	cfg.Out = filepath.Join(dir, "run")
	cfg.MaxSteps, cfg.EvalEvery, cfg.Batch = 4, 4, 8
	cfg.EvalSize, cfg.BeamEval, cfg.Examples = 20, 0, 0
	cfg.Embed, cfg.Hidden, cfg.AttnDim = 8, 8, 8
	sum := testenv.Must(demo.Run(context.Background(), cfg, io.Discard))
	fmt.Println("steps:", sum.Steps, "held-out dates:", sum.Results.TestSize)

	m := testenv.Must(demo.Load(sum.Dir))
	defer m.Close()
	iso := testenv.Must(m.Normalize([]string{"28. November 2026", "the 1st of may 1999"}, 2))
	fmt.Println(len(iso), "dates normalised")
	// Output:
	// steps: 4 held-out dates: 20
	// 2 dates normalised
}
