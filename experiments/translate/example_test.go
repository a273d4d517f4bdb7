package translate_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/triadml/triad/experiments/translate"
	"github.com/triadml/triad/internal/testenv"
)

// A tiny GRU with attention trained for a few steps on a synthetic corpus, then
// loaded from its run directory to translate.
func Example() {
	dir, remove := testenv.TempDir("translate-example")
	defer remove()
	testenv.Check(translate.WriteSynthetic(dir, 64, 4))
	cfg := translate.DefaultConfig()
	cfg.DataDir, cfg.Out = dir, filepath.Join(dir, "run")
	cfg.Embed, cfg.Hidden, cfg.Batch, cfg.Buckets, cfg.Beam = 8, 8, 16, 1, 2
	cfg.MaxSteps, cfg.Threads = 8, 1
	sum := testenv.Must(translate.Run(context.Background(), cfg, io.Discard))
	fmt.Printf("%d steps, %d validation sentences, beam %d\n", sum.Steps, sum.ValSentences, sum.BeamSize)

	m := testenv.Must(translate.Load(sum.Dir))
	defer m.Close()
	out := testenv.Must(m.Translate([]string{"Der hund läuft.", ""}, m.DecodeOptions()))
	fmt.Printf("%d translations, the second %q\n", len(out), out[1])
	// Output:
	// 8 steps, 4 validation sentences, beam 2
	// 2 translations, the second ""
}
