package audio

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
)

// FSDDSampleRate is the sample rate of the Free Spoken Digit Dataset, in Hz.
const FSDDSampleRate = 8000

// DigitClip is one recording of a spoken digit.
type DigitClip struct {
	// Digit is the spoken digit, 0-9.
	Digit int
	// Take numbers the speaker's recordings of the digit, from 0.
	Take int
	// Samples are the mono samples in [-1, 1], at FSDDSampleRate.
	Samples []float32
}

// DigitCorpus holds the recordings of each split ("train", "test") by speaker.
type DigitCorpus struct {
	// Speakers are the speakers of every split, sorted.
	Speakers []string
	// Clips maps split, then speaker, to the speaker's recordings, in the order
	// of the dataset's metadata.
	Clips map[string]map[string][]DigitClip
}

// Count returns the number of recordings of split.
func (c *DigitCorpus) Count(split string) int {
	n := 0
	for _, cs := range c.Clips[split] {
		n += len(cs)
	}
	return n
}

// LoadDigitCorpus reads every recording of the Free Spoken Digit Dataset copy in
// dir (see datasets.LoadFSDD). A recording that is not a readable WAV file, not
// at FSDDSampleRate or empty is an error naming it.
func LoadDigitCorpus(dir string) (*DigitCorpus, error) {
	recs, err := datasets.LoadFSDD(dir)
	if err != nil {
		return nil, err
	}
	c := &DigitCorpus{Clips: map[string]map[string][]DigitClip{"train": {}, "test": {}}}
	seen := map[string]bool{}
	for _, r := range recs {
		s, rate, err := r.Samples()
		if err != nil {
			return nil, errors.Wrap(err, "fsdd")
		}
		if rate != FSDDSampleRate {
			return nil, errors.Errorf("fsdd: %s: sample rate %d Hz, want %d Hz", r.Path, rate, FSDDSampleRate)
		}
		if len(s) == 0 {
			return nil, errors.Errorf("fsdd: %s: no samples", r.Path)
		}
		c.Clips[r.Split][r.Speaker] = append(c.Clips[r.Split][r.Speaker], DigitClip{Digit: r.Digit, Take: r.Take, Samples: s})
		if !seen[r.Speaker] {
			seen[r.Speaker] = true
			c.Speakers = append(c.Speakers, r.Speaker)
		}
	}
	sort.Strings(c.Speakers)
	return c, nil
}

// ToneCorpus returns a synthetic corpus, small and quick to learn, for tests and
// examples: digit d of the s-th speaker is a sine of 300 + 250 d + 20 s Hz and
// amplitude 0.3, lasting 960 + 80 ((d + take) mod 8) samples (0.12 to 0.2 s).
// Takes below datasets.FSDDTestTakes are the test split, as in the real dataset.
func ToneCorpus(speakers []string, digits []int, takes int) *DigitCorpus {
	c := &DigitCorpus{Speakers: speakers, Clips: map[string]map[string][]DigitClip{"train": {}, "test": {}}}
	for si, s := range speakers {
		for _, d := range digits {
			for take := range takes {
				x := make([]float32, 960+80*((d+take)%8))
				for i := range x {
					x[i] = float32(0.3 * math.Sin(2*math.Pi*(300+250*float64(d)+20*float64(si))*float64(i)/FSDDSampleRate))
				}
				split := "train"
				if take < datasets.FSDDTestTakes {
					split = "test"
				}
				c.Clips[split][s] = append(c.Clips[split][s], DigitClip{Digit: d, Take: take, Samples: x})
			}
		}
	}
	return c
}

// WriteFSDD writes the corpus into dir in the layout of the Free Spoken Digit
// Dataset: recordings/DIGIT_SPEAKER_TAKE.wav (32-bit float WAV, so that
// LoadDigitCorpus reads back exactly the same samples) and metadata.tsv.
func (c *DigitCorpus) WriteFSDD(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "recordings"), 0o755); err != nil {
		return err
	}
	var meta strings.Builder
	meta.WriteString("path\tdigit\tspeaker\tindex\tsplit\n")
	for _, split := range []string{"train", "test"} {
		for _, s := range c.Speakers {
			for _, clip := range c.Clips[split][s] {
				name := fmt.Sprintf("%d_%s_%d.wav", clip.Digit, s, clip.Take)
				if err := os.WriteFile(filepath.Join(dir, "recordings", name), floatWAV(clip.Samples, FSDDSampleRate), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(&meta, "recordings/%s\t%d\t%s\t%d\t%s\n", name, clip.Digit, s, clip.Take, split)
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "metadata.tsv"), []byte(meta.String()), 0o644)
}

// floatWAV encodes mono samples as a WAV file of 32-bit IEEE floats.
func floatWAV(samples []float32, rate int) []byte {
	le := binary.LittleEndian
	size := 4 * len(samples)
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+size))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 3) // IEEE float
	b = le.AppendUint16(b, 1) // mono
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(4*rate))
	b = le.AppendUint16(b, 4)
	b = le.AppendUint16(b, 32)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(size))
	for _, v := range samples {
		b = le.AppendUint32(b, math.Float32bits(v))
	}
	return b
}
