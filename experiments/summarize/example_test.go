package summarize_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/internal/testenv"
)

// A few steps of a small pointer-generator on a toy sample, then headlines
// from the run.
func Example() {
	dir, remove := testenv.TempDir("summarize")
	defer remove()
	testenv.Check(summarize.WriteToyGigaword(dir, 64, 8))
	cfg := summarize.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads = dir, filepath.Join(dir, "run"), 1
	cfg.MaxSteps, cfg.EvalEvery = 4, 2
	cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Batch = 8, 8, 8, 16
	cfg.Beam, cfg.MaxDecode, cfg.LeadMax = 2, 8, 10
	sum := testenv.Must(summarize.Run(context.Background(), cfg, io.Discard))
	fmt.Printf("%d steps; lead baseline: the first %d words\n", sum.Steps, sum.Lead.N)

	m := testenv.Must(summarize.Load(sum.Dir))
	defer m.Close()
	heads := testenv.Must(m.Summarize([]string{"zqabcx opened the bank in paris on monday , officials said .", ""}, m.Options()))
	fmt.Printf("%d headlines, the second %q\n", len(heads), heads[1])
	// Output:
	// 4 steps; lead baseline: the first 6 words
	// 2 headlines, the second ""
}
