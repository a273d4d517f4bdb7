package audio

import (
	"math"

	"github.com/pkg/errors"
)

// MelScale names a formula from hertz to mels.
type MelScale string

// The mel scales.
const (
	// HTK is m = 2595 log10(1 + f/700) (O'Shaughnessy 1987, as the HTK Book
	// writes it): 1000 Hz is 1000 mel, to within 0.01 mel.
	HTK MelScale = "htk"
	// Slaney is the scale of Slaney's Auditory Toolbox (1998), librosa's
	// default: linear below 1 kHz, m = 3f/200, logarithmic above,
	// m = 15 + 27 ln(f/1000)/ln(6.4); 1000 Hz is 15 mel.
	Slaney MelScale = "slaney"
)

// Constants of Slaney's scale: 200/3 Hz per mel below 1 kHz, where it reaches
// 15 mel, and a step of ln(6.4)/27 in ln f per mel above.
const (
	slaneyHzPerMel = 200.0 / 3
	slaneyBreakHz  = 1000.0
	slaneyBreakMel = slaneyBreakHz / slaneyHzPerMel // 15
)

var slaneyLogStep = math.Log(6.4) / 27

// HzToMel converts a frequency in hertz to mels on scale s.
func HzToMel(f float64, s MelScale) (float64, error) {
	switch s {
	case HTK:
		return 2595 * math.Log10(1+f/700), nil
	case Slaney:
		if f < slaneyBreakHz {
			return f / slaneyHzPerMel, nil
		}
		return slaneyBreakMel + math.Log(f/slaneyBreakHz)/slaneyLogStep, nil
	}
	return 0, errors.Errorf("audio: unknown mel scale %q (htk, slaney)", s)
}

// MelToHz is the inverse of HzToMel.
func MelToHz(m float64, s MelScale) (float64, error) {
	switch s {
	case HTK:
		return 700 * (math.Pow(10, m/2595) - 1), nil
	case Slaney:
		if m < slaneyBreakMel {
			return m * slaneyHzPerMel, nil
		}
		return slaneyBreakHz * math.Exp((m-slaneyBreakMel)*slaneyLogStep), nil
	}
	return 0, errors.Errorf("audio: unknown mel scale %q (htk, slaney)", s)
}

// MelFilterbank returns nMels triangular filters over the nfft/2+1 bins of an
// nfft-point spectrum at sampleRate, as a row-major (nMels, nfft/2+1) matrix.
// Filter m rises from corner f_m to a peak of 1 at f_{m+1} and falls to 0 at
// f_{m+2}, the nMels+2 corners equally spaced on scale between fmin and fmax
// (fmax 0 means sampleRate/2); bin k sits at k sampleRate/nfft. With
// slaneyNorm each filter is multiplied by 2/(f_{m+2} - f_m), so that filters
// have equal area (librosa's norm="slaney").
func MelFilterbank(nMels, nfft, sampleRate int, fmin, fmax float64, scale MelScale, slaneyNorm bool) ([]float64, error) {
	if nMels <= 0 || nfft <= 0 || sampleRate <= 0 {
		return nil, errors.Errorf("audio: filterbank of %d mels, %d FFT points at %d Hz", nMels, nfft, sampleRate)
	}
	nyquist := float64(sampleRate) / 2
	if fmax == 0 {
		fmax = nyquist
	}
	if fmin < 0 || fmax <= fmin || fmax > nyquist {
		return nil, errors.Errorf("audio: filterbank from %g Hz to %g Hz, want 0 <= fmin < fmax <= %g", fmin, fmax, nyquist)
	}
	lo, err := HzToMel(fmin, scale)
	if err != nil {
		return nil, err
	}
	hi, _ := HzToMel(fmax, scale)
	corners := make([]float64, nMels+2)
	for i := range corners {
		corners[i], _ = MelToHz(lo+(hi-lo)*float64(i)/float64(nMels+1), scale)
	}
	bins := nfft/2 + 1
	fb := make([]float64, nMels*bins)
	for m := range nMels {
		left, centre, right := corners[m], corners[m+1], corners[m+2]
		norm := 1.0
		if slaneyNorm {
			norm = 2 / (right - left)
		}
		for k := range bins {
			f := float64(k) * float64(sampleRate) / float64(nfft)
			var w float64
			switch {
			case f > left && f <= centre:
				w = (f - left) / (centre - left)
			case f > centre && f < right:
				w = (right - f) / (right - centre)
			}
			fb[m*bins+k] = w * norm
		}
	}
	return fb, nil
}
