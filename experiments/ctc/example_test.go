package ctc_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/experiments/ctc"
)

// Example trains a small network for four steps on synthetic tones written in
// the dataset's layout, then recognises two utterances with the finished run.
func Example() {
	dir, err := os.MkdirTemp("", "ctc-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	corpus := audio.ToneCorpus([]string{"a", "b"}, []int{0, 1, 2, 3}, 7)
	if err := corpus.WriteFSDD(filepath.Join(dir, "data")); err != nil {
		panic(err)
	}

	cfg := ctc.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads = filepath.Join(dir, "data"), filepath.Join(dir, "run"), 1
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs, cfg.Warmup = 8, 16, 4, 2, 2, 1
	cfg.MaxDigits, cfg.Buckets, cfg.TestUtterances, cfg.EvalBatch = 3, "12,24,36", 6, 4
	sum, err := ctc.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", sum.Steps)

	r, err := ctc.Load(sum.Dir)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	gen, err := audio.NewUtterances(audio.UtteranceConfig{Mels: cfg.Mels, Stack: cfg.Stack, EdgeMaxMs: 50, GapMinMs: 50, GapMaxMs: 100}, corpus)
	if err != nil {
		panic(err)
	}
	var waves [][]float64
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 2; n++ {
		u, err := gen.Draw(rng, "test", n)
		if err != nil {
			panic(err)
		}
		waves = append(waves, u.Wave)
	}
	digits, err := r.Recognize(waves)
	if err != nil {
		panic(err)
	}
	fmt.Println("recognised:", len(digits))
	// Output:
	// steps: 4
	// recognised: 2
}
