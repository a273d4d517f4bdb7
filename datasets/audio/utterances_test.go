package audio

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
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
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/FSDDSampleRate))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// writeToyFSDD writes an FSDD-shaped dataset: digits 0-2 of speaker "ann",
// takes 0-5, and the file of recording 1_ann_5.wav replaced by bad (when not
// nil).
func writeToyFSDD(t *testing.T, bad []byte) string {
	dir := t.TempDir()
	require.NoError(t, ToneCorpus([]string{"ann"}, []int{0, 1, 2}, 6).WriteFSDD(dir))
	if bad != nil {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "recordings", "1_ann_5.wav"), bad, 0o644))
	}
	return dir
}

// TestDigitCorpusRoundTrip: WriteFSDD writes what LoadDigitCorpus reads back
// exactly.
func TestDigitCorpusRoundTrip(t *testing.T) {
	want := ToneCorpus([]string{"ann", "bob"}, []int{0, 1, 2}, 6)
	dir := t.TempDir()
	require.NoError(t, want.WriteFSDD(dir))
	got, err := LoadDigitCorpus(dir)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestDigitCorpusErrors: a WAV file of another sample rate, an unsupported
// sample size or cut short gives one clear error naming the file, not a panic.
func TestDigitCorpusErrors(t *testing.T) {
	c, err := LoadDigitCorpus(writeToyFSDD(t, nil))
	require.NoError(t, err)
	require.Equal(t, []string{"ann"}, c.Speakers)
	require.Equal(t, 3, c.Count("train"))
	require.Equal(t, 15, c.Count("test"))

	for _, bad := range []struct {
		name string
		file []byte
		want string
	}{
		{"16 kHz", wavFile(16000, 16, pcm16(400, 800), -1), "sample rate 16000 Hz, want 8000 Hz"},
		{"12-bit", wavFile(FSDDSampleRate, 12, pcm16(400, 800), -1), "12-bit integer PCM is not supported"},
		{"truncated", wavFile(FSDDSampleRate, 16, pcm16(400, 800), 3200), "data chunk truncated"},
		{"empty", []byte{}, "truncated RIFF header"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := LoadDigitCorpus(writeToyFSDD(t, bad.file))
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, bad.want)
			require.Contains(t, msg, "1_ann_5.wav")
			require.NotContains(t, msg, "\n")
		})
	}
}

// TestRealDigitCorpus reads the real Free Spoken Digit Dataset when present.
func TestRealDigitCorpus(t *testing.T) {
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
	c, err := LoadDigitCorpus(dir)
	require.NoError(t, err)
	require.Len(t, c.Speakers, 6)
	require.Equal(t, 2700, c.Count("train")) // the dataset's README: takes 0-4 of 3,000 are test
	require.Equal(t, 300, c.Count("test"))
}

// TestUtterances: an utterance joins recordings of one speaker from the right
// split, its labels are the digits, its own frames are normalised to zero mean,
// and padding fills exactly the frames asked for.
func TestUtterances(t *testing.T) {
	cfg := UtteranceConfig{Mels: 16, Stack: 6, GapMinMs: 50, GapMaxMs: 200, EdgeMaxMs: 100, SilenceNoise: 1e-3}
	// training takes: speaker a says 1 and 2, speaker b 7; test takes: both say 3
	train := ToneCorpus([]string{"a"}, []int{1, 2}, 8)
	other := ToneCorpus([]string{"b"}, []int{7}, 8)
	test := ToneCorpus([]string{"a", "b"}, []int{3}, 5)
	c := &DigitCorpus{Speakers: []string{"a", "b"}, Clips: map[string]map[string][]DigitClip{
		"train": {"a": train.Clips["train"]["a"], "b": other.Clips["train"]["b"]},
		"test":  test.Clips["test"],
	}}
	g, err := NewUtterances(cfg, c)
	require.NoError(t, err)
	require.Equal(t, cfg.Mels*cfg.Stack, g.InputDim())
	rng := graph.NewRNG(1, "draw")
	for range 20 {
		u, err := g.Draw(rng, "train", 3)
		require.NoError(t, err)
		require.Len(t, u.Digits, 3)
		speakerB := u.Digits[0] == 7
		for _, d := range u.Digits {
			if speakerB {
				require.Equal(t, 7, d, "one speaker per utterance")
			} else {
				require.Contains(t, []int{1, 2}, d, "training takes only")
			}
		}
		u, err = g.DrawFitting(rng, "test", 2, 36)
		require.NoError(t, err)
		require.Equal(t, []int{3, 3}, u.Digits, "test takes only")
		require.LessOrEqual(t, g.Frames(len(u.Wave)), 36)
	}
	_, err = g.DrawFitting(rng, "train", 3, 1)
	require.ErrorContains(t, err, "exceed 1 frames")
	_, err = g.Draw(rng, "valid", 1)
	require.ErrorContains(t, err, "no valid recordings")

	// normalisation: the utterance's own frames have zero mean
	raw, err := g.Draw(graph.NewRNG(3, "x"), "train", 2)
	require.NoError(t, err)
	u, err := g.Features(raw, 36, graph.NewRNG(3, "pad"))
	require.NoError(t, err)
	require.Equal(t, 36, u.Feats.Frames)
	require.Equal(t, cfg.Mels*cfg.Stack, u.Feats.Dim)
	own := g.Extractor().NumFrames(len(raw.Wave))
	require.Equal(t, (own+cfg.Stack-1)/cfg.Stack, u.Real)
	for m := range cfg.Mels {
		var sum float64
		for f := range own { // 10 ms frame f is part k of stacked frame i
			i, k := f/cfg.Stack, f%cfg.Stack
			sum += u.Feats.Row(i)[k*cfg.Mels+m]
		}
		require.InDelta(t, 0, sum/float64(own), 1e-9, "mel %d", m)
	}
	_, err = g.Features(raw, u.Real-1, graph.NewRNG(3, "pad"))
	require.Error(t, err, "padding to fewer frames than the utterance has")
	unpadded, err := g.Features(raw, 0, nil)
	require.NoError(t, err)
	require.Equal(t, u.Real, unpadded.Feats.Frames)
}
