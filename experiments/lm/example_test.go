package lm_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/triadml/triad/experiments/lm"
	"github.com/triadml/triad/internal/testenv"
)

// A character LSTM learns a repeated line from its own text file, then
// continues a prime from the best checkpoint.
func Example() {
	data, remove := testenv.TempText("lm-example", strings.Repeat("to be or not\n", 200))
	defer remove()
	cfg := lm.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(data, "run")
	cfg.Layers, cfg.Hidden, cfg.SeqLen, cfg.Batch = 1, 32, 13, 8
	cfg.LR, cfg.MaxSteps, cfg.EvalEvery, cfg.Threads = 1e-2, 120, 40, 1
	sum := testenv.Must(lm.Run(context.Background(), cfg, io.Discard))
	m := testenv.Must(lm.Load(sum.Dir))
	defer m.Close()
	out := testenv.Must(m.Sample("to be", lm.SampleOptions{Temperature: 0.1, N: 20, Seed: 1}))
	fmt.Printf("%d steps\n%q\n", sum.Steps, out)
	// Output:
	// 120 steps
	// "to be or not\nto be or not"
}
