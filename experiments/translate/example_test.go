package translate_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/triadml/triad/experiments/translate"
)

// A tiny GRU with attention trained for a few steps on a synthetic corpus, then
// loaded from its run directory to translate.
func Example() {
	dir, err := os.MkdirTemp("", "translate-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := translate.WriteSynthetic(dir, 64, 4); err != nil {
		panic(err)
	}
	cfg := translate.DefaultConfig()
	cfg.DataDir, cfg.Out = dir, filepath.Join(dir, "run")
	cfg.Embed, cfg.Hidden, cfg.Batch, cfg.Buckets, cfg.Beam = 8, 8, 16, 1, 2
	cfg.MaxSteps, cfg.Threads = 8, 1
	sum, err := translate.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d steps, %d validation sentences, beam %d\n", sum.Steps, sum.ValSentences, sum.BeamSize)

	m, err := translate.Load(sum.Dir)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	out, err := m.Translate([]string{"Der hund läuft.", ""}, m.DecodeOptions())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d translations, the second %q\n", len(out), out[1])
	// Output:
	// 8 steps, 4 validation sentences, beam 2
	// 2 translations, the second ""
}
