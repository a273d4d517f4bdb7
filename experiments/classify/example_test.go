package classify_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/triadml/triad/experiments/classify"
	"github.com/triadml/triad/internal/testenv"
)

// A small Transformer learns the toy SNIPS intents, each told by a cue word,
// then labels new requests.
func Example() {
	dir, remove := testenv.TempDir("classify")
	defer remove()
	testenv.Check(classify.WriteToySNIPS(dir, 8, 3))
	cfg := classify.DefaultConfig()
	cfg.Dataset, cfg.DataDir, cfg.Out, cfg.Threads = "snips", dir, filepath.Join(dir, "run"), 1
	cfg.Encoder, cfg.Embed, cfg.Heads, cfg.FF = "transformer", 16, 2, 16
	cfg.Epochs, cfg.Batch, cfg.LR, cfg.Decay, cfg.Dropout, cfg.WordDrop = 8, 8, 0.01, 1, 0.1, 0.1
	sum := testenv.Must(classify.Run(context.Background(), cfg, io.Discard))
	fmt.Println(sum.Split.Examples, "validation sentences")
	m := testenv.Must(classify.Load(sum.Dir))
	defer m.Close()
	for _, p := range testenv.Must(m.Predict([]string{"please cue0 now", "could you cue5 for me"})) {
		fmt.Println(p.Label)
	}
	// Output:
	// 21 validation sentences
	// AddToPlaylist
	// SearchCreativeWork
}
