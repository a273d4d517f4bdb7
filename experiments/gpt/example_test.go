package gpt_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/triadml/triad/experiments/gpt"
	"github.com/triadml/triad/internal/testenv"
)

// A one-layer character GPT learns a repeated line from its own text file,
// then continues a prompt greedily from the best checkpoint.
func Example() {
	data, remove := testenv.TempText("gpt-example", strings.Repeat("to be or not\n", 200))
	defer remove()
	cfg := gpt.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(data, "run")
	cfg.Layers, cfg.Heads, cfg.Embed, cfg.Block, cfg.Batch = 1, 2, 16, 16, 8
	cfg.LR, cfg.MinLR, cfg.Warmup, cfg.EvalIters = 1e-2, 1e-3, 10, 2
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 100, 50, 10, 1
	sum := testenv.Must(gpt.Run(context.Background(), cfg, io.Discard))
	m := testenv.Must(gpt.Load(sum.Dir))
	defer m.Close()
	out := testenv.Must(m.Sample("to be", gpt.SampleOptions{N: 20}))
	fmt.Printf("%d steps, validation loss below 0.5: %t\n%q\n", sum.Steps, sum.Final["val_loss"] < 0.5, out)
	// Output:
	// 100 steps, validation loss below 0.5: true
	// "to be or not\nto be or not"
}
