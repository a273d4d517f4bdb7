// Command 06-gpt trains a small GPT (experiments/gpt, models/gpt) on
// tiny-shakespeare's characters for a few hundred steps, draws its learning
// curve and samples from it. Without tiny-shakespeare (and in -short mode) it
// trains on a short built-in text instead, for a few dozen steps.
//
//	go run ./examples/06-gpt [-out DIR] [-short]
package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/experiments/gpt"
)

func main() {
	notebook.Main("examples/06-gpt/out", run)
}

// builtinText is the corpus of a short run: a few invented lines in the
// shape of a play, repeated, so that a tiny model learns them quickly.
const builtinText = `FIRST CITIZEN:
The bread is dear and the winter long.

SECOND CITIZEN:
Then let us go to the market and ask the baker why.

FIRST CITIZEN:
He will say the wheat is late, and the wheat will say the rain.

`

// result is what the test checks.
type result struct {
	dir              string
	steps            int
	firstLoss, final float64
	sample           string
}

func run(out string, short bool) (*result, error) {
	nb, err := notebook.New(out, "A small GPT on Shakespeare's characters", short, os.Stdout)
	if err != nil {
		return nil, err
	}
	nb.Text("A GPT is a stack of Transformer decoder blocks: each position attends to the positions before it (a causal mask), and the last layer gives the probability of the next token. Here the tokens are characters, and the experiment package experiments/gpt does the whole run: the text is cut 90/10 into training and validation parts, each step draws random windows of the training part, AdamW updates the weights under a warm-up and cosine learning-rate schedule, and the run directory receives config.json, metrics.jsonl, checkpoints, learning_curve.png and TensorBoard events.")

	cfg := gpt.DefaultConfig()
	cfg.Out, cfg.Overwrite = filepath.Join(out, "run"), true
	cfg.Layers, cfg.Heads, cfg.Embed, cfg.Block, cfg.Batch = 2, 4, 64, 64, 12
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Warmup, cfg.EvalIters = 300, 50, 10, 30, 5
	cfg.LR, cfg.MinLR = 3e-3, 3e-4
	source := "tiny-shakespeare"
	if _, err := datasets.NewFinder().Find(context.Background(), "tinyshakespeare"); short || err != nil {
		source = "a built-in text"
		dir := filepath.Join(out, "text")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "input.txt"), []byte(strings.Repeat(builtinText, 40)), 0o644); err != nil {
			return nil, err
		}
		cfg.DataDir = dir
		cfg.Layers, cfg.Embed, cfg.Block, cfg.Batch = 1, 32, 32, 8
		cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Warmup, cfg.EvalIters = 60, 20, 5, 10, 2
		cfg.LR, cfg.MinLR = 1e-2, 1e-3
	}
	nb.Printf("data: %s\nmodel: %d layers, %d heads, width %d, windows of %d characters, batches of %d\ntraining: %d steps of AdamW, lr %g down to %g\n",
		source, cfg.Layers, cfg.Heads, cfg.Embed, cfg.Block, cfg.Batch, cfg.MaxSteps, cfg.LR, cfg.MinLR)

	sum, err := gpt.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		return nil, err
	}
	res := &result{dir: sum.Dir, steps: sum.Steps, final: sum.Final["val_loss"]}
	nb.Printf("%s\n", sum)
	nb.Text("The loop drew the learning curve into the run directory: the training loss at every logging step and both losses at every evaluation, in nats per character. A model that knows nothing pays ln(vocabulary size) nats per character; one that has learnt the spelling and the layout of the text pays much less.")
	nb.Attach(filepath.Join("run", "learning_curve.png"), "learning curve of the run")

	m, err := gpt.Load(sum.Dir)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	opts := gpt.DefaultSampleOptions()
	opts.N = 300
	if short {
		opts.N = 120
	}
	if res.sample, err = m.Sample("FIRST CITIZEN:\n", opts); err != nil {
		return nil, err
	}
	nb.Text("Loaded back from its run directory (gpt.Load), the model continues a prompt, one character at a time, each drawn from its predicted distribution at temperature %.1f among the %d most probable:", opts.Temperature, opts.TopK)
	nb.Printf("%s\n", res.sample)
	return res, nb.Close()
}
