package main

// Bad input, every command: unknown flags, settings no run can have, missing
// and corrupt data files, corrupt run directories, odd standard input. Each
// case runs a command line in this process and requires what a user is owed:
// no panic, the exit status of its kind, exactly one line on stderr that names
// the command (no stack trace, no encoder's message), no run directory left by
// a refused run, and every run directory it was pointed at unchanged.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/experiments/classify"
	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/experiments/translate"
	"github.com/triadml/triad/graph"
)

// badCase is one command line and what it must give.
type badCase struct {
	name string
	// args is the command line; "OUT" stands for a fresh directory that a
	// refused run must not create.
	args []string
	// stdin is the command's standard input.
	stdin string
	// env sets environment variables for the case.
	env map[string]string
	// code is the exit status wanted.
	code int
	// line is a part of the one line wanted on stderr; "" with code 0: no line.
	line string
	// stdout, when not nil, checks the standard output.
	stdout func(t *testing.T, out string)
}

// invoke runs args as the command line, in this process, with stdin as the
// standard input, and returns the exit status and what went to stdout and
// stderr. A panic fails the test with its stack.
func invoke(t *testing.T, args []string, stdin string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "stdin")
	require.NoError(t, os.WriteFile(in, []byte(stdin), 0o644))
	files := make([]*os.File, 3)
	var err error
	files[0], err = os.Open(in)
	require.NoError(t, err)
	for i, name := range []string{"stdout", "stderr"} {
		files[i+1], err = os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
	}
	saved := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	os.Stdin, os.Stdout, os.Stderr = files[0], files[1], files[2]
	func() {
		defer func() {
			os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2]
			if p := recover(); p != nil {
				t.Fatalf("%v panicked: %v\n%s", args, p, debug.Stack())
			}
		}()
		code = run(args)
	}()
	for _, f := range files {
		f.Close()
	}
	outRaw, err := os.ReadFile(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	errRaw, err := os.ReadFile(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	return code, string(outRaw), string(errRaw)
}

// overwriteFiles replaces the content of every file below dir with data.
func overwriteFiles(t *testing.T, dir string, data []byte) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.WriteFile(p, data, 0o644)
		}
		return err
	}))
}

// snapshot returns the SHA-256 of every file below dir, by path ("" for a
// directory), or nil when dir does not exist.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p] = ""
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x", sha256.Sum256(raw))
		return nil
	}))
	return out
}

// stderrLines returns the lines of stderr, without the warning a binary of
// unknown source revision gives.
func stderrLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "warning: the source revision") {
			out = append(out, l)
		}
	}
	return out
}

// commandName returns the command args run ("lm sample", "bench").
func commandName(args []string) string {
	name, _, _, _ := lookup(args)
	return name
}

// copyRun copies the run directory src to a new directory and returns it.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	}))
	return dst
}

// spoilRun returns a copy of the run src whose file name (relative to the run)
// holds content, or, when content is nil, the file's first half.
func spoilRun(t *testing.T, src, name string, content []byte) string {
	t.Helper()
	dst := copyRun(t, src)
	p := filepath.Join(dst, filepath.FromSlash(name))
	if content == nil {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		content = raw[:len(raw)/2]
	}
	require.NoError(t, os.WriteFile(p, content, 0o644))
	return dst
}

// nanRun returns a copy of the run src whose checkpoints hold NaN weights.
func nanRun(t *testing.T, src string) string {
	t.Helper()
	dst := copyRun(t, src)
	for _, name := range []string{"best.safetensors", "last.safetensors"} {
		p := filepath.Join(dst, "checkpoints", name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		ts, meta, err := graph.LoadTensors(p)
		require.NoError(t, err)
		for _, ts := range ts {
			if ts.Dtype() == tensor.Float32 {
				for i := range graph.Slice[float32](ts) {
					graph.Slice[float32](ts)[i] = float32(math.NaN())
				}
			}
		}
		require.NoError(t, graph.SaveTensors(p, ts, meta))
	}
	return dst
}

// hugeHeader is a safetensors file whose header claims a tensor of 10^10
// float32 values that the file does not hold.
func hugeHeader() []byte {
	header := []byte(`{"w":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}}`)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.Write(header)
	b.Write(make([]byte, 16))
	return b.Bytes()
}

// hugeHeaderLength is a safetensors file whose first 8 bytes give its header a
// length of 2^62 bytes.
func hugeHeaderLength() []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(1)<<62)
	b.WriteString(`{}`)
	return b.Bytes()
}

// mnistDir writes the four MNIST files, each holding content(name), to a new
// directory and returns it.
func mnistDir(t *testing.T, content func(name string) []byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), content(name), 0o644))
	}
	return dir
}

// gz returns raw gzipped.
func gz(raw []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// idxHeader returns the header of a uint8 IDX file of the given dimensions,
// with no data after it.
func idxHeader(dims ...uint32) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// trainedRuns trains one tiny run of each command that has sub-commands over a
// finished run, and returns their directories by command.
func trainedRuns(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	text := lmFixture(t)
	snips := t.TempDir()
	require.NoError(t, classify.WriteToySNIPS(snips, 4, 2))
	giga := t.TempDir()
	require.NoError(t, summarize.WriteToyGigaword(giga, 40, 6))
	pairs := t.TempDir()
	require.NoError(t, translate.WriteSynthetic(pairs, 60, 6))
	runs := map[string]string{}
	for name, args := range map[string][]string{
		"lm": {"--data-dir", text, "--hidden", "8", "--seq-len", "10", "--batch", "4", "--max-steps", "2", "--eval-every", "2"},
		"gpt": {"--data-dir", text, "--layers", "1", "--heads", "2", "--embed", "8", "--block", "8", "--batch", "2",
			"--eval-iters", "1", "--max-steps", "2", "--eval-every", "2"},
		"classify": {"--dataset", "snips", "--data-dir", snips, "--embed", "8", "--hidden", "6", "--attn-dim", "5", "--batch", "8",
			"--max-len", "8", "--epochs", "1"},
		"summarize": {"--data-dir", giga, "--max-steps", "2", "--eval-every", "2", "--batch", "8", "--embed", "8", "--hidden", "8",
			"--attn-dim", "8", "--beam", "1", "--eval-size", "2", "--lead-max", "6"},
		"translate": {"--data-dir", pairs, "--embed", "8", "--hidden", "8", "--batch", "8", "--buckets", "1", "--beam", "1",
			"--max-steps", "2", "--eval-every", "2"},
	} {
		runs[name] = filepath.Join(root, name)
		code, _, stderr := invoke(t, append([]string{name, "--out", runs[name], "--threads", "1", "--log-every", "1"}, args...), "")
		require.Equal(t, 0, code, "%s: %s", name, stderr)
	}
	return runs
}

func TestBadInput(t *testing.T) {
	t.Setenv(datasets.EnvOffline, "1")
	runs := trainedRuns(t)
	text, empty := lmFixture(t), t.TempDir()
	junk := bytes.Repeat([]byte{0}, 4096)
	cfg := func(body string) string {
		p := filepath.Join(t.TempDir(), "config.json")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	// a dataset directory that holds nothing the registry accepts, with no cache
	nothing := map[string]string{datasets.EnvData: empty, "XDG_CACHE_HOME": t.TempDir(), "HOME": t.TempDir()}
	rt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(rt, "rt-polarity.neg"), []byte("a dull film .\nawful .\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rt, "rt-polarity.pos"), nil, 0o644))
	tones := t.TempDir()
	require.NoError(t, audio.ToneCorpus([]string{"a"}, []int{0, 1}, 6).WriteFSDD(tones))
	brokenTones := copyRun(t, tones)
	overwriteFiles(t, filepath.Join(brokenTones, "recordings"), []byte("RIFF\x00\x00"))
	translateJunk := t.TempDir()
	require.NoError(t, translate.WriteSynthetic(translateJunk, 10, 3))
	overwriteFiles(t, translateJunk, junk)
	gigaEmpty := t.TempDir()
	require.NoError(t, summarize.WriteToyGigaword(gigaEmpty, 10, 3))
	overwriteFiles(t, gigaEmpty, nil)
	// a copy of MNIST whose files are cut short, where the registry looks
	badMNIST := t.TempDir()
	require.NoError(t, os.Rename(mnistDir(t, func(string) []byte { return gz(idxHeader(10, 28)) }), filepath.Join(badMNIST, "mnist")))
	long := strings.Repeat("word ", 3000)
	oneLine := func(want string) func(t *testing.T, out string) {
		return func(t *testing.T, out string) { require.Equal(t, want, out) }
	}
	lines := func(n int) func(t *testing.T, out string) {
		return func(t *testing.T, out string) {
			require.Equal(t, n, strings.Count(out, "\n"), "one line out per line in: %q", out)
		}
	}

	var cases []badCase
	// an unknown flag, every command
	for _, c := range []string{"lm", "gpt", "vae", "demo", "translate", "summarize", "classify", "ctc", "mlp",
		"lm sample", "gpt sample", "translate decode", "summarize decode", "classify predict", "bench", "version"} {
		cases = append(cases, badCase{name: c + " unknown flag", args: append(strings.Fields(c), "--no-such-flag"),
			code: 2, line: "flag provided but not defined: -no-such-flag"})
	}
	// settings no run can have
	for _, c := range []struct {
		cmd  string
		args []string
		line string
	}{
		{"lm", []string{"--lr", "nan"}, "--lr NaN: want a finite number"},
		{"lm", []string{"--lr", "inf"}, "--lr +Inf: want a finite number"},
		{"lm", []string{"--lr", "-1"}, "lr"},
		{"lm", []string{"--clip", "nan"}, "--clip NaN"},
		{"lm", []string{"--threads", "-1"}, "--threads -1"},
		{"lm", []string{"--max-steps", "-5"}, "--max-steps -5"},
		{"lm", []string{"--batch", "0"}, "must be positive"},
		{"lm", []string{"--dropout", "1.5"}, "dropout 1.5"},
		{"lm", []string{"--hidden", "-3"}, "must be positive"},
		{"lm", []string{"--hidden", "100000000"}, "--hidden 100000000: want at most"},
		{"lm", []string{"--seq-len", "100000000"}, "--seq-len 100000000"},
		{"lm", []string{"--train-frac", "nan"}, "--train-frac NaN"},
		{"gpt", []string{"--lr", "nan"}, "--lr NaN"},
		{"gpt", []string{"--weight-decay", "-inf"}, "--weight-decay -Inf"},
		{"gpt", []string{"--embed", "100000000"}, "--embed 100000000"},
		{"gpt", []string{"--heads", "0"}, "must be positive"},
		{"vae", []string{"--lr", "inf"}, "--lr +Inf"},
		{"vae", []string{"--beta", "nan"}, "--beta NaN"},
		{"vae", []string{"--latent", "100000000"}, "--latent 100000000"},
		{"vae", []string{"--hidden", "100000000"}, "hidden: 100000000 is above"},
		{"demo", []string{"--lr", "nan"}, "--lr NaN"},
		{"demo", []string{"--hidden", "100000000"}, "--hidden 100000000"},
		{"translate", []string{"--lr", "nan", "--data-dir", text}, "--lr NaN"},
		{"translate", []string{"--dropout", "1.5"}, "dropout"},
		{"translate", []string{"--label-smoothing", "nan"}, "--label-smoothing NaN"},
		{"summarize", []string{"--lr", "nan"}, "--lr NaN"},
		{"summarize", []string{"--length-penalty", "nan"}, "--length-penalty NaN"},
		{"summarize", []string{"--max-src", "-4"}, "must be positive"},
		{"classify", []string{"--lr", "inf"}, "--lr +Inf"},
		{"classify", []string{"--word-dropout", "1.5"}, "word_dropout 1.5"},
		{"classify", []string{"--max-len", "100000000"}, "--max-len 100000000"},
		{"ctc", []string{"--lr", "nan"}, "--lr NaN"},
		{"ctc", []string{"--silence-noise", "nan"}, "--silence-noise NaN"},
		{"ctc", []string{"--hidden", "100000000"}, "--hidden 100000000"},
		{"mlp", []string{"--lr", "nan"}, "--lr NaN"},
		{"mlp", []string{"--dropout", "1.5"}, "dropout in [0, 1)"},
		{"mlp", []string{"--hidden", "100000000"}, "--hidden 100000000"},
	} {
		cases = append(cases, badCase{name: c.cmd + " " + strings.Join(c.args, " "),
			args: append([]string{c.cmd, "--out", "OUT", "--threads", "1"}, c.args...), code: 2, line: c.line})
	}
	cases = append(cases,
		badCase{name: "bench steps 0", args: []string{"bench", "--only", "lm-char", "--steps", "0"}, code: 2, line: "steps must be positive"},
		badCase{name: "bench unknown configuration", args: []string{"bench", "--only", "nonsense"}, code: 2, line: "unknown configuration"},
		badCase{name: "version argument", args: []string{"version", "extra"}, code: 2, line: `unexpected argument "extra"`},
		badCase{name: "unknown command", args: []string{"lmm"}, code: 2, line: `unknown command "lmm"`},

		// missing and corrupt data
		badCase{name: "lm no input.txt", args: []string{"lm", "--data-dir", empty, "--out", "OUT"}, code: 2, line: "input.txt"},
		badCase{name: "lm TRIAD_DATA empty", args: []string{"lm", "--out", "OUT"}, env: nothing, code: 2, line: "tinyshakespeare not found"},
		badCase{name: "gpt no input.txt", args: []string{"gpt", "--data-dir", empty, "--out", "OUT"}, code: 2, line: "input.txt"},
		badCase{name: "vae TRIAD_DATA empty", args: []string{"vae", "--out", "OUT"}, env: nothing, code: 2, line: "mnist not found"},
		badCase{name: "vae MNIST copy truncated", args: []string{"vae", "--out", "OUT"}, code: 2, line: "mnist",
			env: map[string]string{datasets.EnvData: badMNIST, "XDG_CACHE_HOME": t.TempDir(), "HOME": t.TempDir()}},
		badCase{name: "mlp TRIAD_DATA empty", args: []string{"mlp", "--out", "OUT"}, env: nothing, code: 2, line: "mnist not found"},
		badCase{name: "mlp idx NUL-filled", args: []string{"mlp", "--out", "OUT", "--data-dir", mnistDir(t, func(string) []byte { return junk })},
			code: 2, line: "idx3-ubyte"},
		badCase{name: "mlp idx truncated", args: []string{"mlp", "--out", "OUT", "--data-dir",
			mnistDir(t, func(n string) []byte { return gz(append(idxHeader(60000, 28, 28), 1, 2, 3)) })}, code: 2, line: "idx3-ubyte"},
		badCase{name: "mlp idx header of 10^15 images", args: []string{"mlp", "--out", "OUT", "--data-dir",
			mnistDir(t, func(n string) []byte { return idxHeader(1000000, 1000000, 1000) })}, code: 2, line: "idx3-ubyte"},
		badCase{name: "translate no data", args: []string{"translate", "--data-dir", empty, "--out", "OUT"}, code: 2, line: empty},
		badCase{name: "translate NUL-filled text", args: []string{"translate", "--data-dir", translateJunk, "--out", "OUT"}, code: 2, line: translateJunk},
		badCase{name: "summarize no data", args: []string{"summarize", "--data-dir", empty, "--out", "OUT"}, code: 2, line: empty},
		badCase{name: "summarize empty files", args: []string{"summarize", "--data-dir", gigaEmpty, "--out", "OUT"}, code: 2, line: gigaEmpty},
		badCase{name: "classify no data", args: []string{"classify", "--data-dir", empty, "--dataset", "snips", "--out", "OUT"}, code: 2, line: empty},
		badCase{name: "classify empty rt-polarity.pos", args: []string{"classify", "--data-dir", rt, "--dataset", "rt-polarity", "--out", "OUT"},
			code: 2, line: "rt-polarity.pos is empty"},
		badCase{name: "ctc no data", args: []string{"ctc", "--data-dir", empty, "--out", "OUT"}, code: 2, line: "metadata.tsv"},
		badCase{name: "ctc corrupt wav", args: []string{"ctc", "--data-dir", brokenTones, "--out", "OUT", "--max-steps", "1"}, code: 2, line: ".wav"},
		badCase{name: "ctc TRIAD_DATA empty", args: []string{"ctc", "--out", "OUT"}, env: nothing, code: 2, line: "fsdd not found"},
		badCase{name: "config NUL-filled", args: []string{"lm", "--config", cfg(string(junk)), "--out", "OUT"}, code: 2, line: "config"},
		badCase{name: "config huge hidden", args: []string{"lm", "--config", cfg(`{"hidden": 100000000}`), "--out", "OUT"}, code: 2, line: "--hidden 100000000"},
		badCase{name: "config nan as a string", args: []string{"lm", "--config", cfg(`{"lr": "NaN"}`), "--out", "OUT"}, code: 2, line: "lr"},
		badCase{name: "resume missing directory", args: []string{"lm", "--resume", filepath.Join(empty, "none")}, code: 2, line: "not a run directory"},
		badCase{name: "resume non-run directory", args: []string{"lm", "--resume", empty}, code: 2, line: "not a run directory"},
		badCase{name: "resume with nan", args: []string{"lm", "--resume", runs["lm"], "--lr", "nan"}, code: 2, line: "--lr NaN"},
		badCase{name: "resume corrupt config", args: []string{"lm", "--resume", spoilRun(t, runs["lm"], "config.json", junk)}, code: 2, line: "config"},
	)
	// the commands over a finished run
	for _, c := range []string{"lm sample", "gpt sample", "translate decode", "summarize decode", "classify predict"} {
		cases = append(cases,
			badCase{name: c + " missing run", args: append(strings.Fields(c), "--run", filepath.Join(empty, "none")), code: 2, line: "none"},
			badCase{name: c + " non-run directory", args: append(strings.Fields(c), "--run", empty), code: 2, line: empty},
			badCase{name: c + " without --run", args: strings.Fields(c), code: 2, line: "--run DIR is required"},
		)
	}
	cases = append(cases,
		badCase{name: "lm sample temperature nan", args: []string{"lm", "sample", "--run", runs["lm"], "--temperature", "nan"}, code: 2, line: "temperature"},
		badCase{name: "lm sample temperature inf", args: []string{"lm", "sample", "--run", runs["lm"], "--temperature", "inf"}, code: 2, line: "temperature"},
		badCase{name: "lm sample temperature -1", args: []string{"lm", "sample", "--run", runs["lm"], "--temperature", "-1"}, code: 2, line: "temperature"},
		badCase{name: "lm sample n -1", args: []string{"lm", "sample", "--run", runs["lm"], "--n", "-1"}, code: 2, line: "n must not be negative"},
		badCase{name: "gpt sample top-p nan", args: []string{"gpt", "sample", "--run", runs["gpt"], "--top-p", "nan"}, code: 2, line: "top-p"},
		badCase{name: "gpt sample temperature inf", args: []string{"gpt", "sample", "--run", runs["gpt"], "--temperature", "inf"}, code: 2, line: "temperature"},
		badCase{name: "gpt sample top-k -1", args: []string{"gpt", "sample", "--run", runs["gpt"], "--top-k", "-1"}, code: 2, line: "top-k"},
		badCase{name: "translate decode length-penalty nan", args: []string{"translate", "decode", "--run", runs["translate"], "--length-penalty", "nan"},
			code: 2, line: "--length-penalty NaN"},
		badCase{name: "summarize decode length-penalty nan", args: []string{"summarize", "decode", "--run", runs["summarize"], "--length-penalty", "nan"},
			code: 2, line: "length_penalty NaN"},
		badCase{name: "summarize decode max-decode 0", args: []string{"summarize", "decode", "--run", runs["summarize"], "--max-decode", "0"},
			code: 2, line: "max_decode 0"},

		// corrupt run directories
		badCase{name: "lm sample vocab.json NUL-filled", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "vocab.json", junk)}, code: 2, line: "vocab.json"},
		badCase{name: "lm sample vocab.json truncated", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "vocab.json", nil)}, code: 2, line: "vocab.json"},
		badCase{name: "lm sample config.json garbage", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "config.json", []byte("{not json"))}, code: 2, line: "config"},
		badCase{name: "lm sample config.json hidden 100000", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "config.json", []byte(`{"hidden": 100000}`))},
			code: 2, line: "checkpoint"},
		badCase{name: "lm sample checkpoint NUL-filled", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "checkpoints/best.safetensors", junk)}, code: 2, line: "best.safetensors"},
		badCase{name: "lm sample checkpoint truncated", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "checkpoints/best.safetensors", nil)}, code: 2, line: "best.safetensors"},
		badCase{name: "lm sample checkpoint header of 10^10 values", args: []string{"lm", "sample", "--run", spoilRun(t, runs["lm"], "checkpoints/best.safetensors", hugeHeader())},
			code: 2, line: "best.safetensors"},
		badCase{name: "gpt sample checkpoint header length 2^62", args: []string{"gpt", "sample", "--run", spoilRun(t, runs["gpt"], "checkpoints/best.safetensors", hugeHeaderLength())},
			code: 2, line: "best.safetensors"},
		badCase{name: "gpt sample config.json embed 100000", args: []string{"gpt", "sample", "--run", spoilRun(t, runs["gpt"], "config.json", []byte(`{"embed": 100000}`))},
			code: 2, line: "checkpoint"},
		badCase{name: "translate decode checkpoint truncated", args: []string{"translate", "decode", "--run", spoilRun(t, runs["translate"], "checkpoints/best.safetensors", nil)},
			stdin: "der hund\n", code: 2, line: "best.safetensors"},
		badCase{name: "summarize decode checkpoint NUL-filled", args: []string{"summarize", "decode", "--run", spoilRun(t, runs["summarize"], "checkpoints/best.safetensors", junk)},
			stdin: "a b c\n", code: 2, line: "best.safetensors"},
		badCase{name: "classify predict checkpoint header of 10^10 values", args: []string{"classify", "predict", "--run", spoilRun(t, runs["classify"], "checkpoints/best.safetensors", hugeHeader())},
			stdin: "play cue4\n", code: 2, line: "best.safetensors"},
		badCase{name: "classify predict config.json NUL-filled", args: []string{"classify", "predict", "--run", spoilRun(t, runs["classify"], "config.json", junk)},
			stdin: "play cue4\n", code: 2, line: "config"},

		// weights that are NaN: the command runs and warns once
		badCase{name: "lm sample NaN weights", args: []string{"lm", "sample", "--run", nanRun(t, runs["lm"]), "--n", "5"}, code: 0, line: "NaN or infinite weights"},
		badCase{name: "classify predict NaN weights", args: []string{"classify", "predict", "--run", nanRun(t, runs["classify"])},
			stdin: "play cue4\nplay cue2\n", code: 0, line: "NaN or infinite weights", stdout: lines(2)},
		badCase{name: "summarize decode NaN weights", args: []string{"summarize", "decode", "--run", nanRun(t, runs["summarize"])},
			stdin: "a b c\nd e f\n", code: 0, line: "NaN or infinite weights", stdout: lines(2)},

		// standard input
		badCase{name: "classify predict empty line", args: []string{"classify", "predict", "--run", runs["classify"]}, stdin: "\n", code: 0, stdout: oneLine("\n")},
		badCase{name: "classify predict blank line", args: []string{"classify", "predict", "--run", runs["classify"]}, stdin: " \t\r\n", code: 0, stdout: oneLine("\n")},
		badCase{name: "classify predict over-long line", args: []string{"classify", "predict", "--run", runs["classify"]}, stdin: long + "\n",
			code: 0, line: "line 1: 3000 tokens, cut to the run's 8", stdout: lines(1)},
		badCase{name: "classify predict invalid UTF-8", args: []string{"classify", "predict", "--run", runs["classify"]}, stdin: "\xff\xfe play\n", code: 0, stdout: lines(1)},
		badCase{name: "summarize decode empty line", args: []string{"summarize", "decode", "--run", runs["summarize"]}, stdin: "\n", code: 0, stdout: oneLine("\n")},
		badCase{name: "summarize decode over-long line", args: []string{"summarize", "decode", "--run", runs["summarize"]}, stdin: long + "\n",
			code: 0, line: "line 1: 3000 words, cut to the run's", stdout: lines(1)},
		badCase{name: "summarize decode invalid UTF-8", args: []string{"summarize", "decode", "--run", runs["summarize"]}, stdin: "\xff\xfe a b\n", code: 0, stdout: lines(1)},
		badCase{name: "translate decode empty line", args: []string{"translate", "decode", "--run", runs["translate"]}, stdin: "\n", code: 0, stdout: oneLine("\n")},
		badCase{name: "translate decode over-long line", args: []string{"translate", "decode", "--run", runs["translate"]}, stdin: long + "\n",
			code: 0, line: "line 1: 3000 tokens, cut to the model's", stdout: lines(1)},
		badCase{name: "translate decode invalid UTF-8", args: []string{"translate", "decode", "--run", runs["translate"]}, stdin: "\xff\xfe hund\n", code: 0, stdout: lines(1)},
		badCase{name: "classify predict line over the reader's limit", args: []string{"classify", "predict", "--run", runs["classify"]},
			stdin: "play cue4\n" + strings.Repeat("x", maxLineBytes+1) + "\n", code: 1, line: "line 2: a line is longer than", stdout: lines(1)},
	)

	seen := map[string]bool{}
	for _, c := range cases {
		require.False(t, seen[c.name], "two cases named %q", c.name)
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string(nil), c.args...)
			var watched []string // run directories the command is pointed at
			for i, a := range args {
				if a == "OUT" {
					args[i] = out
				}
				if i > 0 && (args[i-1] == "--run" || args[i-1] == "--resume") {
					watched = append(watched, a)
				}
			}
			before := map[string]map[string]string{}
			for _, d := range watched {
				before[d] = snapshot(t, d)
			}
			code, stdout, stderr := invoke(t, args, c.stdin)
			for _, bad := range []string{"panic", "goroutine ", "fatal error", "json: unsupported value", "runtime error", ".go:"} {
				require.NotContains(t, stderr, bad)
			}
			require.Equal(t, c.code, code, "exit status; stderr: %s", stderr)
			got := stderrLines(stderr)
			if c.line == "" {
				require.Empty(t, got, "nothing on stderr")
			} else {
				require.Len(t, got, 1, "one line on stderr: %q", stderr)
				require.Contains(t, got[0], c.line)
				if _, _, _, known := lookup(args); code != 0 && known {
					require.True(t, strings.HasPrefix(got[0], "triad "+commandName(args)+": "), got[0])
				}
			}
			if c.stdout != nil {
				c.stdout(t, stdout)
			}
			require.NoDirExists(t, out, "a refused run leaves no directory")
			for _, d := range watched {
				require.Equal(t, before[d], snapshot(t, d), "%s is unchanged", d)
			}
		})
	}
	t.Logf("%d cases", len(cases))
}
