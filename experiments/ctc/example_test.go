package ctc_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/experiments/ctc"
	"github.com/triadml/triad/internal/testenv"
)

// Example trains a small network for four steps on synthetic tones written in
// the dataset's layout, then recognises two utterances with the finished run.
func Example() {
	dir, remove := testenv.TempDir("ctc-example")
	defer remove()
	corpus := audio.ToneCorpus([]string{"a", "b"}, []int{0, 1, 2, 3}, 7)
	testenv.Check(corpus.WriteFSDD(filepath.Join(dir, "data")))

	cfg := ctc.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads = filepath.Join(dir, "data"), filepath.Join(dir, "run"), 1
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs, cfg.Warmup = 8, 16, 4, 2, 2, 1
	cfg.MaxDigits, cfg.Buckets, cfg.EvalSize, cfg.EvalBatch = 3, "12,24,36", 6, 4
	sum := testenv.Must(ctc.Run(context.Background(), cfg, io.Discard))
	fmt.Println("steps:", sum.Steps)

	r := testenv.Must(ctc.Load(sum.Dir))
	defer r.Close()
	gen := testenv.Must(audio.NewUtterances(audio.UtteranceConfig{Mels: cfg.Mels, Stack: cfg.Stack, EdgeMaxMs: 50, GapMinMs: 50, GapMaxMs: 100}, corpus))
	var waves [][]float64
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 2; n++ {
		waves = append(waves, testenv.Must(gen.Draw(rng, "test", n)).Wave)
	}
	digits := testenv.Must(r.Recognize(waves))
	fmt.Println("recognised:", len(digits))
	// Output:
	// steps: 4
	// recognised: 2
}
