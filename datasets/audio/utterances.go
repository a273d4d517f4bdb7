package audio

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"
)

// UtteranceConfig describes generated digit utterances and the frames a network
// reads of them.
type UtteranceConfig struct {
	// Mels is the number of log-mel filters of the 25 ms frames, 10 ms apart
	// (HTK mel scale, Hann window).
	Mels int
	// Stack is the number of 10 ms frames stacked into one input frame, which
	// also subsamples by this factor.
	Stack int
	// GapMinMs and GapMaxMs bound the silence between two digits, in ms.
	GapMinMs, GapMaxMs float64
	// EdgeMaxMs is the longest silence before the first and after the last
	// digit, in ms.
	EdgeMaxMs float64
	// SilenceNoise is the standard deviation of the Gaussian noise that fills
	// the silences (0: digital silence).
	SilenceNoise float64
}

// RawUtterance is a generated digit sequence as a waveform at FSDDSampleRate.
type RawUtterance struct {
	// Digits are the spoken digits, in order.
	Digits []int
	// Wave holds the samples.
	Wave []float64
}

// Utterance is a digit sequence as a network reads it: normalised, stacked
// log-mel frames, of which the first Real belong to the utterance (the others
// are padding silence).
type Utterance struct {
	// Digits are the spoken digits, in order.
	Digits []int
	// Feats holds the input frames, padding included.
	Feats *Features
	// Real is the number of input frames of the utterance itself.
	Real int
}

// Utterances makes multi-digit utterances by joining recordings of one speaker
// with silences, and computes their input frames. It is not safe for concurrent
// use (its Extractor is not); make one per goroutine.
type Utterances struct {
	cfg    UtteranceConfig
	corpus *DigitCorpus
	ext    *Extractor
}

// NewUtterances returns a generator of utterances from corpus (nil for one that
// only computes features).
func NewUtterances(cfg UtteranceConfig, corpus *DigitCorpus) (*Utterances, error) {
	if cfg.Stack < 1 {
		return nil, errors.Errorf("audio: stacking %d frames", cfg.Stack)
	}
	ext, err := NewExtractor(Config{SampleRate: FSDDSampleRate, Mels: cfg.Mels})
	if err != nil {
		return nil, err
	}
	return &Utterances{cfg: cfg, corpus: corpus, ext: ext}, nil
}

// Extractor returns the extractor of the 10 ms frames.
func (g *Utterances) Extractor() *Extractor { return g.ext }

// InputDim returns the size of an input frame.
func (g *Utterances) InputDim() int { return g.cfg.Mels * g.cfg.Stack }

// Frames returns the number of input frames of n samples.
func (g *Utterances) Frames(n int) int {
	return (g.ext.NumFrames(n) + g.cfg.Stack - 1) / g.cfg.Stack
}

// silence appends n samples of silence (noise of the configured level).
func (g *Utterances) silence(dst []float64, rng *rand.Rand, n int) []float64 {
	dst = slices.Grow(dst, n)
	for range n {
		dst = append(dst, g.cfg.SilenceNoise*rng.NormFloat64())
	}
	return dst
}

// msSamples draws a duration uniformly in [lo, hi] ms, as samples.
func msSamples(rng *rand.Rand, lo, hi float64) int {
	return int(math.Round((lo + (hi-lo)*rng.Float64()) * FSDDSampleRate / 1000))
}

// Draw joins n recordings of one speaker, drawn uniformly among the speakers
// with recordings in split, each recording drawn uniformly among the speaker's
// (so digits are nearly uniform), with silences of GapMinMs to GapMaxMs between
// them and up to EdgeMaxMs before and after.
func (g *Utterances) Draw(rng *rand.Rand, split string, n int) (RawUtterance, error) {
	var speakers []string
	if g.corpus != nil {
		for _, s := range g.corpus.Speakers {
			if len(g.corpus.Clips[split][s]) > 0 {
				speakers = append(speakers, s)
			}
		}
	}
	if len(speakers) == 0 {
		return RawUtterance{}, errors.Errorf("audio: no %s recordings", split)
	}
	clips := g.corpus.Clips[split][speakers[rng.IntN(len(speakers))]]
	// the layout first: silences (n+1, the first and last at the edges) and clips
	u := RawUtterance{Digits: make([]int, n)}
	chosen := make([]DigitClip, n)
	gaps := make([]int, n+1)
	total := 0
	for i := range gaps {
		if i == 0 || i == n {
			gaps[i] = msSamples(rng, 0, g.cfg.EdgeMaxMs)
		} else {
			gaps[i] = msSamples(rng, g.cfg.GapMinMs, g.cfg.GapMaxMs)
		}
		total += gaps[i]
		if i < n {
			chosen[i] = clips[rng.IntN(len(clips))]
			u.Digits[i] = chosen[i].Digit
			total += len(chosen[i].Samples)
		}
	}
	x := make([]float64, 0, total)
	for i, c := range chosen {
		x = g.silence(x, rng, gaps[i])
		for _, v := range c.Samples {
			x = append(x, float64(v))
		}
	}
	u.Wave = g.silence(x, rng, gaps[n])
	return u, nil
}

// DrawFitting draws utterances of n digits until one fits maxFrames input frames.
func (g *Utterances) DrawFitting(rng *rand.Rand, split string, n, maxFrames int) (RawUtterance, error) {
	for range 100 {
		u, err := g.Draw(rng, split, n)
		if err != nil {
			return u, err
		}
		if g.Frames(len(u.Wave)) <= maxFrames {
			return u, nil
		}
	}
	return RawUtterance{}, errors.Errorf("audio: 100 utterances of %d digits in a row exceed %d frames: raise the largest bucket", n, maxFrames)
}

// Features computes the input frames of u. With padTo > 0 the waveform is first
// extended with silence (from rng) to exactly padTo input frames; the
// normalisation statistics are those of the utterance's own frames.
func (g *Utterances) Features(u RawUtterance, padTo int, rng *rand.Rand) (Utterance, error) {
	wave := u.Wave
	real := g.Frames(len(wave))
	own := g.ext.NumFrames(len(wave))
	if padTo > 0 {
		if real > padTo {
			return Utterance{}, errors.Errorf("audio: utterance of %d frames padded to %d", real, padTo)
		}
		// padTo*stack frames of 10 ms span frameLen + (padTo*stack-1)*hop
		// samples; up to hop-1 samples past them belong to no frame
		want := g.ext.FrameLength() + (padTo*g.cfg.Stack-1)*g.ext.Hop()
		if len(wave) >= want {
			wave = wave[:want]
		} else {
			wave = g.silence(slices.Clip(wave), rng, want-len(wave))
		}
	}
	f := g.ext.LogMel(wave)
	f.NormalizeBy(own)
	st, err := f.Stack(g.cfg.Stack, g.cfg.Stack)
	if err != nil {
		return Utterance{}, err
	}
	if padTo > 0 {
		st.Frames = padTo
		st.Data = st.Data[:padTo*st.Dim]
	}
	return Utterance{Digits: u.Digits, Feats: st, Real: real}, nil
}
