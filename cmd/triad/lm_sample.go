package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// lmSample generates text from a trained run through a one-step graph that shares
// the run's weights: the prime is fed one token at a time, then each next token is
// drawn from softmax(logits / temperature).
func lmSample(args []string) error {
	fs := flag.NewFlagSet("triad lm sample", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPath := fs.String("run", "", "run directory of a `triad lm` run")
	prime := fs.String("prime", "\n", "text the sample starts from")
	temp := fs.Float64("temperature", 0.8, "softmax temperature (lower is more conservative)")
	n := fs.Int("n", 500, "tokens to generate")
	seed := fs.Uint64("seed", 1, "sampling seed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return errHelp
		}
		return usage(err)
	}
	if *runPath == "" {
		return usage(errors.New("--run DIR is required"))
	}
	if *temp <= 0 {
		return usage(errors.Errorf("temperature must be positive, got %g", *temp))
	}
	cfg := defaultLMConfig()
	cfs := flag.NewFlagSet("config", flag.ContinueOnError)
	train.BindFlags(cfs, &cfg)
	if err := train.ParseConfig(cfs, &cfg, []string{"--config", filepath.Join(*runPath, "config.json")}); err != nil {
		return usage(err)
	}
	voc, err := vocab.LoadVocab(filepath.Join(*runPath, "vocab.json"))
	if err != nil {
		return usage(err)
	}
	tok, err := lmTokenizer(cfg.Level)
	if err != nil {
		return usage(err)
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	lm, err := rnn.NewLM(store, rnn.LMConfig{Vocab: voc.Len(), Embed: cfg.Embed, Hidden: cfg.Hidden, Layers: cfg.Layers,
		Cell: rnn.Cell(cfg.Cell), Dropout: cfg.Dropout, Tie: cfg.Tie})
	if err != nil {
		return err
	}
	if _, err := train.LoadParams(*runPath, store); err != nil {
		return usage(err)
	}
	text, err := sampleLM(lm, store, voc, tok, *prime, *temp, *n, *seed)
	if err != nil {
		return err
	}
	fmt.Println(text)
	return nil
}

// sampleLM returns prime followed by n sampled tokens.
func sampleLM(lm *rnn.LM, store *graph.Store, voc *vocab.Vocab, tok vocab.Tokenizer, prime string, temp float64, n int, seed uint64) (string, error) {
	prog, err := lm.Build(store, graph.Eval, 1, 1, true)
	if err != nil {
		return "", err
	}
	state := lm.NewState(tensor.Float32, 1)
	rng := graph.NewRNG(seed, "sample")
	ids := voc.Encode(tok.Tokenize(prime))
	if len(ids) == 0 {
		return "", usage(errors.New("the prime is empty"))
	}
	out := append([]string(nil), voc.Decode(ids)...)
	next := ids[0]
	step := func(id int) ([]float64, error) {
		if err := prog.Feed([]int{id}, []int{0}); err != nil {
			return nil, err
		}
		if err := prog.SetState(state); err != nil {
			return nil, err
		}
		if err := prog.Run(); err != nil {
			return nil, err
		}
		if err := prog.CopyFinalState(state); err != nil {
			return nil, err
		}
		logits, err := prog.Output("logits")
		if err != nil {
			return nil, err
		}
		return graph.Float64s(logits), nil
	}
	var logits []float64
	for _, id := range ids {
		if logits, err = step(id); err != nil {
			return "", err
		}
	}
	for i := 0; i < n; i++ {
		next = sampleSoftmax(logits, temp, rng.Float64(), vocab.NumSpecial)
		out = append(out, voc.Decode([]int{next})...)
		if logits, err = step(next); err != nil {
			return "", err
		}
	}
	return tok.Detokenize(out), nil
}

// sampleSoftmax draws an index from softmax(logits / temp) by inverting the
// cumulative distribution at u in [0, 1), never choosing the special tokens below
// skip (pad, unk, bos, eos).
func sampleSoftmax(logits []float64, temp, u float64, skip int) int {
	maxv := math.Inf(-1)
	for _, v := range logits[skip:] {
		maxv = math.Max(maxv, v)
	}
	p := make([]float64, len(logits))
	var z float64
	for i := skip; i < len(logits); i++ {
		p[i] = math.Exp((logits[i] - maxv) / temp)
		z += p[i]
	}
	acc := 0.0
	for i := skip; i < len(p); i++ {
		acc += p[i] / z
		if u < acc {
			return i
		}
	}
	return len(p) - 1
}
