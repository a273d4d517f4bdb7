package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/train"
)

// trMaxLineBytes bounds the length of an input line of `translate decode`.
const trMaxLineBytes = 16 << 20

// translateDecode translates every line of in with a trained run and writes
// one translation per line to out. An empty line gives an empty translation;
// a line longer than the model's maximum source length is cut (with a note on
// errw); a line that fails gives an empty output line and one error line on
// errw, and decoding carries on.
func translateDecode(args []string, in io.Reader, out, errw io.Writer) error {
	fs := flag.NewFlagSet("triad translate decode", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPath := fs.String("run", "", "run directory of a `triad translate` run")
	beam := fs.Int("beam", 1, "beam size (1: greedy)")
	alpha := fs.Float64("alpha", -1, "length-penalty exponent of beam search (default: the run's)")
	pngDir := fs.String("attention-png", "", "write each sentence's attention heatmap to DIR/line-NNNNN.png")
	batchSize := fs.Int("batch", 32, "greedy decoding: most lines translated together when the input is ahead")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: triad translate decode --run DIR [--beam 5] [--attention-png DIR] < sentences.txt > translations.txt")
			fs.PrintDefaults()
			return errHelp
		}
		return usage(err)
	}
	switch {
	case fs.NArg() > 0:
		return usage(errors.Errorf("unexpected argument %q", fs.Arg(0)))
	case *runPath == "":
		return usage(errors.New("--run DIR is required"))
	case *beam < 1 || *batchSize < 1:
		return usage(errors.New("--beam and --batch must be at least 1"))
	}
	train.SetThreads(*threads)
	d, err := loadTrDecoder(*runPath)
	if err != nil {
		return usage(err)
	}
	if *alpha >= 0 {
		d.cfg.Alpha = *alpha
	}
	if *pngDir != "" {
		if err := os.MkdirAll(*pngDir, 0o755); err != nil {
			return usage(err)
		}
	}
	d.beam, d.pngDir, d.errw = *beam, *pngDir, errw
	if *beam > 1 {
		*batchSize = 1
	}

	type line struct {
		text string
		err  error
	}
	lines := make(chan line, *batchSize)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), trMaxLineBytes)
		for sc.Scan() {
			lines <- line{text: sc.Text()}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = errors.Errorf("a line is longer than %d bytes", trMaxLineBytes)
			}
			lines <- line{err: err}
		}
	}()
	w := bufio.NewWriter(out)
	defer w.Flush()
	n := 0
	for first := range lines {
		group := []line{first}
	drain: // take whatever else is already waiting, to translate it together
		for len(group) < *batchSize && group[len(group)-1].err == nil {
			select {
			case l, ok := <-lines:
				if !ok {
					break drain
				}
				group = append(group, l)
			default:
				break drain
			}
		}
		var texts []string
		var readErr error
		for _, l := range group {
			if l.err != nil {
				readErr = l.err
				break
			}
			texts = append(texts, strings.TrimSuffix(l.text, "\r"))
		}
		for _, tr := range d.translate(n+1, texts) {
			fmt.Fprintln(w, tr)
		}
		n += len(texts)
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, "translate decode: writing")
		}
		if readErr != nil {
			return errors.Wrapf(readErr, "translate decode: reading line %d", n+1)
		}
	}
	return nil
}

// trDecoder is a trained run loaded for translation.
type trDecoder struct {
	cfg      translateConfig
	src, tgt *trSide
	m        *trModel
	beam     int
	pngDir   string
	errw     io.Writer
}

// loadTrDecoder loads a run's configuration, vocabularies and weights (the
// best checkpoint, else the last).
func loadTrDecoder(dir string) (*trDecoder, error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return nil, errors.Wrapf(err, "%s is not a translate run", dir)
	}
	cfg := defaultTranslateConfig()
	cfs := flag.NewFlagSet("config", flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	train.BindFlags(cfs, &cfg)
	if err := train.ParseConfig(cfs, &cfg, []string{"--config", filepath.Join(dir, "config.json")}); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, errors.Wrapf(err, "%s", filepath.Join(dir, "config.json"))
	}
	src, tgt, err := loadTrSides(dir, cfg)
	if err != nil {
		return nil, err
	}
	m, err := newTrModel(cfg, src.voc.Len(), tgt.voc.Len())
	if err != nil {
		return nil, err
	}
	if _, err := train.LoadParams(dir, m.store); err != nil {
		return nil, err
	}
	return &trDecoder{cfg: cfg, src: src, tgt: tgt, m: m, beam: 1, errw: io.Discard}, nil
}

// translate translates lines numbered first, first+1, ... and returns one
// output per line ("" for an empty line or a failure, reported on errw).
func (d *trDecoder) translate(first int, lines []string) []string {
	out := make([]string, len(lines))
	toks := make([][]string, len(lines))
	ids := make([][]int, len(lines))
	var todo []int
	for i, l := range lines {
		toks[i] = d.src.tokens(l)
		if len(toks[i]) == 0 {
			continue
		}
		if len(toks[i]) > d.m.maxSrc {
			fmt.Fprintf(d.errw, "triad translate decode: line %d: %d tokens, cut to the model's %d\n", first+i, len(toks[i]), d.m.maxSrc)
			toks[i] = toks[i][:d.m.maxSrc]
		}
		ids[i] = d.src.voc.Encode(toks[i])
		todo = append(todo, i)
	}
	hyps := make([]attention.Hypothesis, len(lines))
	failed := map[int]error{}
	one := func(i int) {
		h, err := d.decode([][]int{ids[i]})
		if err != nil {
			failed[i] = err
			return
		}
		hyps[i] = h[0]
	}
	if len(todo) > 1 && d.beam == 1 {
		srcs := make([][]int, len(todo))
		for k, i := range todo {
			srcs[k] = ids[i]
		}
		if hs, err := d.decode(srcs); err == nil {
			for k, i := range todo {
				hyps[i] = hs[k]
			}
		} else { // find the line that fails
			for _, i := range todo {
				one(i)
			}
		}
	} else {
		for _, i := range todo {
			one(i)
		}
	}
	for _, i := range todo {
		if err := failed[i]; err != nil {
			fmt.Fprintf(d.errw, "triad translate decode: line %d: %s\n", first+i, oneLine(err))
			continue
		}
		out[i] = d.tgt.text(hyps[i].Tokens, trUnkReplacer(d.cfg, d.src, toks[i], hyps[i]))
		if d.pngDir != "" {
			if err := d.heatmap(first+i, toks[i], hyps[i]); err != nil {
				fmt.Fprintf(d.errw, "triad translate decode: line %d: %s\n", first+i, oneLine(err))
			}
		}
	}
	return out
}

// decode decodes sources (greedy, or beam search for one source), turning a
// panic of the graph machinery into an error.
func (d *trDecoder) decode(srcs [][]int) (hyps []attention.Hypothesis, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("decoding failed: %v", r)
		}
	}()
	if d.beam > 1 {
		h, err := trBeam(d.m, srcs[0], d.beam, d.cfg.Alpha)
		return []attention.Hypothesis{h}, err
	}
	// pad the batch to a power of two rows with copies of its first source, so
	// that a few compiled programs serve every batch size
	n := len(srcs)
	rows := 1
	for rows < n {
		rows *= 2
	}
	padded := append([][]int(nil), srcs...)
	longest := 0
	for len(padded) < rows {
		padded = append(padded, srcs[0])
	}
	for _, s := range srcs {
		longest = max(longest, len(s))
	}
	hyps, err = attention.Greedy(d.m.decoder, padded, attention.DecodeOptions{BOS: trTokens.BOS, EOS: trTokens.EOS, MaxLen: d.m.decodeLimit(longest)})
	if err != nil {
		return nil, err
	}
	hyps = hyps[:n]
	for i := range hyps {
		hyps[i] = d.m.clip(hyps[i], len(srcs[i]))
	}
	return hyps, nil
}

// heatmap draws the attention of one translation.
func (d *trDecoder) heatmap(line int, srcToks []string, h attention.Hypothesis) error {
	labels := d.tgt.voc.Decode(h.Tokens)
	if h.Finished {
		labels = append(labels, "</s>")
	}
	if len(labels) == 0 || len(labels) != len(h.Weights) {
		return errors.Errorf("no attention weights to draw (%d output tokens, %d rows)", len(labels), len(h.Weights))
	}
	title := fmt.Sprintf("line %d", line)
	return attention.Heatmap(filepath.Join(d.pngDir, fmt.Sprintf("line-%05d.png", line)), h.Weights, srcToks, labels, title)
}
