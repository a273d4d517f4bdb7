package classify_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/triadml/triad/experiments/classify"
)

// A small Transformer learns the toy SNIPS intents, each told by a cue word,
// then labels new requests.
func Example() {
	dir, err := os.MkdirTemp("", "classify")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := classify.WriteToySNIPS(dir, 8, 3); err != nil {
		log.Fatal(err)
	}
	cfg := classify.DefaultConfig()
	cfg.Dataset, cfg.DataDir, cfg.Out, cfg.Threads = "snips", dir, filepath.Join(dir, "run"), 1
	cfg.Encoder, cfg.Embed, cfg.Heads, cfg.FF = "transformer", 16, 2, 16
	cfg.Epochs, cfg.Batch, cfg.LR, cfg.Decay, cfg.Dropout, cfg.WordDrop = 8, 8, 0.01, 1, 0.1, 0.1
	sum, err := classify.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.Split.Examples, "validation sentences")
	m, err := classify.Load(sum.Dir)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	out, err := m.Predict([]string{"please cue0 now", "could you cue5 for me"})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range out {
		fmt.Println(p.Label)
	}
	// Output:
	// 21 validation sentences
	// AddToPlaylist
	// SearchCreativeWork
}
