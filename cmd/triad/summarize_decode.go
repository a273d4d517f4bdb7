package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// summarizeDecode writes a headline for every line of in, one line out per line
// in, with the weights of a `triad summarize` run. A line is lowercased, its
// digits written as '#', and split on white space (the Gigaword sample's form;
// tokenise text like it for the best results). An empty line gives an empty
// headline; a line that fails to decode gives an empty headline and a message
// on errOut, and decoding carries on.
func summarizeDecode(args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("triad summarize decode", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPath := fs.String("run", "", "the `DIR` of a triad summarize run")
	beam := fs.Int("beam", -1, "beam size (1: greedy; default: the run's)")
	alpha := fs.Float64("length-penalty", -1, "length-penalty exponent of beam search (default: the run's)")
	var noRepeat, noWords, noUnk optionalBool
	fs.Var(&noRepeat, "no-repeat-trigram", "never repeat a trigram (default: the run's)")
	fs.Var(&noWords, "no-repeat-words", "never write a word twice (default: the run's)")
	fs.Var(&noUnk, "no-unk", "never write <unk> (default: the run's)")
	maxLen := fs.Int("max-decode", 0, "most tokens of a headline, EOS included (default: the run's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: triad summarize decode --run DIR [flags] < articles.txt > headlines.txt")
			fs.PrintDefaults()
			return errHelp
		}
		return usage(err)
	}
	if fs.NArg() > 0 {
		return usage(errors.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *runPath == "" {
		return usage(errors.New("--run DIR is required"))
	}
	cfg := defaultSummarizeConfig()
	cfs := flag.NewFlagSet("config", flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	train.BindFlags(cfs, &cfg)
	if err := train.ParseConfig(cfs, &cfg, []string{"--config", filepath.Join(*runPath, "config.json")}); err != nil {
		return usage(errors.Wrap(err, "not a summarize run"))
	}
	if *beam >= 0 {
		cfg.Beam = *beam
	}
	if *alpha >= 0 {
		cfg.LengthPenalty = *alpha
	}
	if *maxLen > 0 {
		cfg.MaxDecode = *maxLen
	}
	if noRepeat.set {
		cfg.NoRepeatTrigram = noRepeat.value
	}
	if noWords.set {
		cfg.NoRepeatWords = noWords.value
	}
	if noUnk.set {
		cfg.NoUnk = noUnk.value
	}
	if cfg.Beam < 1 {
		return usage(errors.Errorf("--beam %d: want at least 1", cfg.Beam))
	}
	voc, err := vocab.LoadVocab(filepath.Join(*runPath, "vocab.json"))
	if err != nil {
		return usage(err)
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := pointer.New(store, cfg.model(voc.Len()))
	if err != nil {
		return usage(err)
	}
	if _, err := train.LoadParams(*runPath, store); err != nil {
		return usage(err)
	}
	dec := model.NewDecoder(store)
	defer dec.Close()
	sm, err := decodeModel(dec, cfg)
	if err != nil {
		return err
	}
	opt := attention.DecodeOptions{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: cfg.MaxDecode, Beam: cfg.Beam, Alpha: cfg.LengthPenalty}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	w := bufio.NewWriter(out)
	defer w.Flush()
	line := 0
	for sc.Scan() {
		line++
		text, err := decodeLine(sm, voc, normaliseArticle(sc.Text()), cfg.MaxSrc, opt)
		if err != nil {
			fmt.Fprintf(errOut, "summarize decode: line %d: %s\n", line, oneLine(err))
			text = ""
		}
		fmt.Fprintln(w, text)
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, "summarize decode")
		}
	}
	return errors.Wrap(sc.Err(), "summarize decode: reading the input")
}

// optionalBool is a boolean flag that remembers whether it was given.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.Errorf("%q is not a boolean", s)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// decodeLine returns the headline of one article's words ("" for none).
func decodeLine(m attention.StepModel, voc *vocab.Vocab, words []string, maxSrc int, opt attention.DecodeOptions) (string, error) {
	if len(words) == 0 {
		return "", nil
	}
	if len(words) > maxSrc {
		words = words[:maxSrc]
	}
	src, oovs := pointer.ExtendSource(words, voc.ID, voc.Len())
	var hyps []attention.Hypothesis
	var err error
	if opt.Beam > 1 {
		hyps, err = attention.BeamSearch(m, src, opt)
	} else {
		hyps, err = attention.Greedy(m, [][]int{src}, opt)
	}
	if err != nil || len(hyps) == 0 {
		return "", err
	}
	return headline(voc, hyps[0].Tokens, oovs), nil
}
