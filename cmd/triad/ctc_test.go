package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// wavFile returns a mono PCM WAV file of the given sample rate and bits per
// sample holding data; dataSize overrides the data chunk's declared size when
// not negative.
func wavFile(rate, bits int, data []byte, dataSize int) []byte {
	if dataSize < 0 {
		dataSize = len(data)
	}
	le := binary.LittleEndian
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+dataSize))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, 1) // mono
	b = le.AppendUint32(b, uint32(rate))
	block := (bits + 7) / 8
	b = le.AppendUint32(b, uint32(rate*block))
	b = le.AppendUint16(b, uint16(block))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataSize))
	return append(b, data...)
}

// pcm16 encodes a tone of n samples as 16-bit PCM.
func pcm16(freq float64, n int) []byte {
	var b []byte
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/ctcSampleRate))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// writeFakeFSDD writes an FSDD-shaped dataset: digits 0-2 of speaker "ann",
// takes 0-5, and the file of recording 1_ann_5.wav replaced by bad (when not
// nil).
func writeFakeFSDD(t *testing.T, bad []byte) string {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "recordings"), 0o755))
	meta := "path\tdigit\tspeaker\tindex\tsplit\n"
	for d := range 3 {
		for take := range 6 {
			name := fmt.Sprintf("%d_ann_%d.wav", d, take)
			split := "train"
			if take < 5 {
				split = "test"
			}
			meta += fmt.Sprintf("recordings/%s\t%d\tann\t%d\t%s\n", name, d, take, split)
			data := wavFile(ctcSampleRate, 16, pcm16(400+200*float64(d), 800), -1)
			if d == 1 && take == 5 && bad != nil {
				data = bad
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "recordings", name), data, 0o644))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "metadata.tsv"), []byte(meta), 0o644))
	return dir
}

// TestCTCCorpusErrors: a WAV file of another sample rate, an unsupported
// sample size or cut short gives one clear error naming the file, not a panic.
func TestCTCCorpusErrors(t *testing.T) {
	c, err := loadDigitCorpus(writeFakeFSDD(t, nil))
	require.NoError(t, err)
	require.Equal(t, []string{"ann"}, c.speakers)
	require.Equal(t, 3, c.count("train"))
	require.Equal(t, 15, c.count("test"))

	for _, bad := range []struct {
		name string
		file []byte
		want string
	}{
		{"16 kHz", wavFile(16000, 16, pcm16(400, 800), -1), "sample rate 16000 Hz, want 8000 Hz"},
		{"12-bit", wavFile(ctcSampleRate, 12, pcm16(400, 800), -1), "12-bit integer PCM is not supported"},
		{"truncated", wavFile(ctcSampleRate, 16, pcm16(400, 800), 3200), "data chunk truncated"},
		{"empty", []byte{}, "truncated RIFF header"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := loadDigitCorpus(writeFakeFSDD(t, bad.file))
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, bad.want)
			require.Contains(t, msg, "1_ann_5.wav")
			require.NotContains(t, msg, "\n")
		})
	}
}

func TestCTCFlags(t *testing.T) {
	require.Equal(t, 0, run([]string{"ctc", "--help"}))
	for _, args := range [][]string{
		{"--cell", "elman"}, {"--pad", "zeros"}, {"--buckets", "10,x"}, {"--min-digits", "3", "--max-digits", "2"},
		{"--beam", "0"}, {"--gap-min-ms", "300"}, {"--lr", "-1"}, {"--hidden", "many"},
	} {
		require.Equal(t, 2, run(append([]string{"ctc", "--out", t.TempDir()}, args...)), "%v", args)
	}
}

// toneCorpus is a synthetic corpus: digit d of speaker s is a tone of 300 +
// 250 d Hz (shifted by 20 Hz per speaker) lasting 0.12 to 0.2 s; takes 0-4 are
// the test split.
func toneCorpus(speakers []string, digits []int, takes int) *digitCorpus {
	c := &digitCorpus{speakers: speakers, clips: map[string]map[string][]digitClip{"train": {}, "test": {}}}
	for si, s := range speakers {
		for _, d := range digits {
			for take := range takes {
				n := 960 + 80*((d+take)%8)
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(0.3 * math.Sin(2*math.Pi*(300+250*float64(d)+20*float64(si))*float64(i)/ctcSampleRate))
				}
				split := "train"
				if take < 5 {
					split = "test"
				}
				c.clips[split][s] = append(c.clips[split][s], digitClip{digit: d, samples: x})
			}
		}
	}
	return c
}

func tinyCTCConfig() ctcConfig {
	cfg := defaultCTCConfig()
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs = 8, 16, 4, 2, 2
	cfg.MaxDigits, cfg.Buckets, cfg.TestUtterances, cfg.EvalBatch, cfg.Warmup = 3, "12,24,36", 6, 4, 1
	cfg.Beam = 3
	return cfg
}

// TestCTCUtterances: utterances join recordings of one speaker from the right
// split, their labels are the digits, padding fills a batch shape exactly, and
// a step's batch depends on the step only.
func TestCTCUtterances(t *testing.T) {
	cfg := tinyCTCConfig()
	// training takes: speaker a says 1 and 2, speaker b 7; test takes: both say 3
	train := toneCorpus([]string{"a"}, []int{1, 2}, 8)
	other := toneCorpus([]string{"b"}, []int{7}, 8)
	test := toneCorpus([]string{"a", "b"}, []int{3}, 5)
	c := &digitCorpus{speakers: []string{"a", "b"}, clips: map[string]map[string][]digitClip{
		"train": {"a": train.clips["train"]["a"], "b": other.clips["train"]["b"]},
		"test":  test.clips["test"],
	}}
	task, err := newCTCTask(cfg, c)
	require.NoError(t, err)
	for step := range 20 {
		us, T, err := task.trainBatch(task.gen, step)
		require.NoError(t, err)
		require.Len(t, us, cfg.Batch)
		require.Contains(t, task.buckets, T)
		n := len(us[0].digits)
		for _, u := range us {
			require.Len(t, u.digits, n, "one digit count per step")
			require.Equal(t, T, u.feats.Frames)
			require.LessOrEqual(t, u.real, T)
			require.Equal(t, cfg.Mels*cfg.Stack, u.feats.Dim)
			speakerB := u.digits[0] == 7
			for _, d := range u.digits {
				if speakerB {
					require.Equal(t, 7, d, "one speaker per utterance")
				} else {
					require.Contains(t, []int{1, 2}, d, "training takes only")
				}
			}
		}
		again, T2, err := task.batch(step)
		require.NoError(t, err)
		require.Equal(t, T, T2)
		for i := range us {
			require.Equal(t, us[i].digits, again[i].digits)
			require.Equal(t, us[i].feats.Data, again[i].feats.Data, "the batch drawn ahead equals the one drawn in place")
		}
	}
	utts, digits := task.testCount()
	require.Equal(t, cfg.TestUtterances, utts)
	require.Greater(t, digits, 0)
	for _, batch := range task.test {
		for _, u := range batch {
			for _, d := range u.digits {
				require.Equal(t, 3, d, "test takes only")
			}
		}
	}

	// normalisation: the utterance's own frames have zero mean
	raw, err := task.gen.draw(graph.NewRNG(3, "x"), "train", 2)
	require.NoError(t, err)
	u, err := task.gen.features(raw, 36, graph.NewRNG(3, "pad"))
	require.NoError(t, err)
	require.Equal(t, 36, u.feats.Frames)
	own := task.gen.ext.NumFrames(len(raw.wave))
	require.Equal(t, (own+cfg.Stack-1)/cfg.Stack, u.real)
	for m := range cfg.Mels {
		var sum float64
		for f := range own { // 10 ms frame f is part k of stacked frame i
			i, k := f/cfg.Stack, f%cfg.Stack
			sum += u.feats.Row(i)[k*cfg.Mels+m]
		}
		require.InDelta(t, 0, sum/float64(own), 1e-9, "mel %d", m)
	}
	_, err = task.gen.features(raw, u.real-1, graph.NewRNG(3, "pad"))
	require.Error(t, err, "padding to fewer frames than the utterance has")
	unpadded, err := task.gen.features(raw, 0, nil)
	require.NoError(t, err)
	require.Equal(t, u.real, unpadded.feats.Frames)
}

// TestCTCTrainsOnTones runs the experiment for a few steps on synthetic tones,
// with silence padding and with masks, and checks the run's files.
func TestCTCTrainsOnTones(t *testing.T) {
	for _, pad := range []string{"silence", "mask"} {
		t.Run(pad, func(t *testing.T) {
			cfg := tinyCTCConfig()
			cfg.Pad = pad
			if pad == "mask" {
				cfg.Cell, cfg.Layers = "lstm", 2
			}
			task, err := newCTCTask(cfg, toneCorpus([]string{"a", "b"}, []int{0, 1, 2, 3}, 7))
			require.NoError(t, err)
			dir := t.TempDir()
			loop := task.loop(dir)
			loop.Log = &strings.Builder{}
			sum, err := loop.Run(context.Background())
			require.NoError(t, err)
			require.Equal(t, 4, sum.Steps)
			for _, k := range []string{"test_der", "test_der_greedy", "test_seq_acc", "test_loss"} {
				v, ok := sum.Final[k]
				require.True(t, ok, k)
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v", k, v)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			require.NoError(t, err)
			var s train.Summary
			require.NoError(t, json.Unmarshal(raw, &s))
			require.Equal(t, 4, s.Steps)
		})
	}
}

// TestCTCRealCorpus reads the real Free Spoken Digit Dataset when present.
func TestCTCRealCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 3,000 recordings")
	}
	dir := ""
	for _, root := range append(filepath.SplitList(os.Getenv("TRIAD_DATA")), filepath.Join("..", "..", "..", "shared", "data")) {
		if _, err := os.Stat(filepath.Join(root, "fsdd", "metadata.tsv")); root != "" && err == nil {
			dir = filepath.Join(root, "fsdd")
			break
		}
	}
	if dir == "" {
		t.Skip("fsdd not found in $TRIAD_DATA or ../../../shared/data")
	}
	c, err := loadDigitCorpus(dir)
	require.NoError(t, err)
	require.Len(t, c.speakers, 6)
	require.Equal(t, 2700, c.count("train")) // the dataset's README: takes 0-4 of 3,000 are test
	require.Equal(t, 300, c.count("test"))
}
