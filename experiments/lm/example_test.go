package lm_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/triadml/triad/experiments/lm"
)

// A character LSTM learns a repeated line from its own text file, then
// continues a prime from the best checkpoint.
func Example() {
	data, _ := os.MkdirTemp("", "lm-example")
	defer os.RemoveAll(data)
	text := strings.Repeat("to be or not\n", 200)
	if err := os.WriteFile(filepath.Join(data, "input.txt"), []byte(text), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	cfg := lm.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(data, "run")
	cfg.Layers, cfg.Hidden, cfg.SeqLen, cfg.Batch = 1, 32, 13, 8
	cfg.LR, cfg.MaxSteps, cfg.EvalEvery, cfg.Threads = 1e-2, 120, 40, 1
	sum, err := lm.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := lm.Load(sum.Dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	out, err := m.Sample("to be", lm.SampleOptions{Temperature: 0.1, N: 20, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps\n%q\n", sum.Steps, out)
	// Output:
	// 120 steps
	// "to be or not\nto be or not"
}
