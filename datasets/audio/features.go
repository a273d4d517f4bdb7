package audio

import (
	"math"

	"github.com/pkg/errors"
)

// Config describes the feature pipeline of an Extractor (see the package
// documentation). The zero value of a field takes the default noted on it.
type Config struct {
	// SampleRate of the input, in Hz (required).
	SampleRate int `json:"sample_rate"`
	// FrameMs is the analysis window's length in milliseconds (25).
	FrameMs float64 `json:"frame_ms"`
	// HopMs is the distance between frame starts in milliseconds (10).
	HopMs float64 `json:"hop_ms"`
	// NFFT is the FFT length; 0 takes the smallest power of two that holds a
	// frame.
	NFFT int `json:"nfft"`
	// Window is the analysis window (Hann).
	Window Window `json:"window"`
	// SymmetricWindow uses the symmetric window instead of the periodic one.
	SymmetricWindow bool `json:"symmetric_window"`
	// Preemphasis, when not 0, filters each frame by y_n = x_n - a x_{n-1}
	// (y_0 = x_0 - a x_0) before windowing; 0.97 is customary.
	Preemphasis float64 `json:"preemphasis"`
	// Mels is the number of mel filters (40).
	Mels int `json:"mels"`
	// FMin and FMax bound the filterbank in Hz (0 and 0: the Nyquist frequency).
	FMin float64 `json:"fmin"`
	FMax float64 `json:"fmax"`
	// Scale is the mel scale (HTK).
	Scale MelScale `json:"mel_scale"`
	// SlaneyNorm area-normalises the filters.
	SlaneyNorm bool `json:"slaney_norm"`
	// Floor is the smallest filterbank energy before the logarithm (1e-10).
	Floor float64 `json:"floor"`
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.FrameMs == 0 {
		c.FrameMs = 25
	}
	if c.HopMs == 0 {
		c.HopMs = 10
	}
	if c.Window == "" {
		c.Window = Hann
	}
	if c.Mels == 0 {
		c.Mels = 40
	}
	if c.Scale == "" {
		c.Scale = HTK
	}
	if c.Floor == 0 {
		c.Floor = 1e-10
	}
	return c
}

// Extractor computes features with a fixed configuration. It reuses its FFT
// buffers, so it is not safe for concurrent use; make one per goroutine.
type Extractor struct {
	cfg      Config
	frameLen int
	hop      int
	window   []float64
	spec     *Spectrum
	fb       []float64 // (Mels, bins)
	frame    []float64
	power    []float64
}

// NewExtractor checks cfg, fills its defaults and precomputes the window and
// the filterbank.
func NewExtractor(cfg Config) (*Extractor, error) {
	cfg = cfg.withDefaults()
	if cfg.SampleRate <= 0 {
		return nil, errors.Errorf("audio: sample rate %d", cfg.SampleRate)
	}
	e := &Extractor{
		cfg:      cfg,
		frameLen: int(math.Round(float64(cfg.SampleRate) * cfg.FrameMs / 1000)),
		hop:      int(math.Round(float64(cfg.SampleRate) * cfg.HopMs / 1000)),
	}
	if e.frameLen <= 0 || e.hop <= 0 {
		return nil, errors.Errorf("audio: %g ms frames every %g ms at %d Hz are empty", cfg.FrameMs, cfg.HopMs, cfg.SampleRate)
	}
	if e.cfg.NFFT == 0 {
		e.cfg.NFFT = NextPow2(e.frameLen)
	}
	if e.cfg.NFFT < e.frameLen {
		return nil, errors.Errorf("audio: FFT of %d points for frames of %d samples", e.cfg.NFFT, e.frameLen)
	}
	if cfg.Preemphasis < 0 || cfg.Preemphasis >= 1 {
		return nil, errors.Errorf("audio: pre-emphasis %g outside [0, 1)", cfg.Preemphasis)
	}
	var err error
	if e.window, err = WindowCoefficients(cfg.Window, e.frameLen, !cfg.SymmetricWindow); err != nil {
		return nil, err
	}
	if e.spec, err = NewSpectrum(e.cfg.NFFT); err != nil {
		return nil, err
	}
	if e.fb, err = MelFilterbank(cfg.Mels, e.cfg.NFFT, cfg.SampleRate, cfg.FMin, cfg.FMax, cfg.Scale, cfg.SlaneyNorm); err != nil {
		return nil, err
	}
	e.frame = make([]float64, e.frameLen)
	e.power = make([]float64, e.spec.Bins())
	return e, nil
}

// Config returns the configuration with its defaults filled in.
func (e *Extractor) Config() Config { return e.cfg }

// FrameLength returns the frame length in samples.
func (e *Extractor) FrameLength() int { return e.frameLen }

// Hop returns the hop in samples.
func (e *Extractor) Hop() int { return e.hop }

// NumFrames returns the number of frames of a signal of n samples.
func (e *Extractor) NumFrames(n int) int { return NumFrames(n, e.frameLen, e.hop) }

// Features is a sequence of feature vectors, row-major: frame i is
// Data[i*Dim : (i+1)*Dim].
type Features struct {
	Frames, Dim int
	Data        []float64
}

// Row returns frame i (sharing Data).
func (f *Features) Row(i int) []float64 { return f.Data[i*f.Dim : (i+1)*f.Dim] }

// framePower computes the power spectrum of frame i of x into e.power.
func (e *Extractor) framePower(x []float64, i int) {
	src := x[i*e.hop : i*e.hop+e.frameLen]
	a := e.cfg.Preemphasis
	for n := range e.frame {
		v := src[n]
		if a != 0 {
			if n == 0 {
				v -= a * src[0]
			} else {
				v -= a * src[n-1]
			}
		}
		e.frame[n] = v * e.window[n]
	}
	_, _ = e.spec.Power(e.power, e.frame) // lengths are right by construction
}

// PowerSpectrogram returns the power spectrum of every frame of x, (frames,
// NFFT/2+1).
func (e *Extractor) PowerSpectrogram(x []float64) *Features {
	n := e.NumFrames(len(x))
	bins := e.spec.Bins()
	f := &Features{Frames: n, Dim: bins, Data: make([]float64, n*bins)}
	for i := range n {
		e.framePower(x, i)
		copy(f.Row(i), e.power)
	}
	return f
}

// LogMel returns the log mel-filterbank energies of every frame of x,
// (frames, Mels): log(max(sum_k H_mk P_k, Floor)).
func (e *Extractor) LogMel(x []float64) *Features {
	n := e.NumFrames(len(x))
	mels, bins := e.cfg.Mels, e.spec.Bins()
	f := &Features{Frames: n, Dim: mels, Data: make([]float64, n*mels)}
	for i := range n {
		e.framePower(x, i)
		row := f.Row(i)
		for m := range mels {
			var s float64
			for k, h := range e.fb[m*bins : (m+1)*bins] {
				s += h * e.power[k]
			}
			row[m] = math.Log(math.Max(s, e.cfg.Floor))
		}
	}
	return f
}

// MFCC returns the first numCeps mel-frequency cepstral coefficients of every
// frame of x, (frames, numCeps): the orthonormal DCT-II of the log-mel vector.
func (e *Extractor) MFCC(x []float64, numCeps int) (*Features, error) {
	if numCeps <= 0 || numCeps > e.cfg.Mels {
		return nil, errors.Errorf("audio: %d cepstral coefficients of %d mels", numCeps, e.cfg.Mels)
	}
	lm := e.LogMel(x)
	f := &Features{Frames: lm.Frames, Dim: numCeps, Data: make([]float64, lm.Frames*numCeps)}
	for i := range lm.Frames {
		copy(f.Row(i), DCT2(lm.Row(i), numCeps))
	}
	return f, nil
}

// Normalize subtracts from every dimension its mean over the frames and
// divides it by its standard deviation (population), in place: per-utterance
// mean and variance normalisation. A dimension whose standard deviation is
// below 1e-8 (constant) is only centred. Zero frames are left alone.
func (f *Features) Normalize() { f.NormalizeBy(f.Frames) }

// NormalizeBy is Normalize with the means and standard deviations of the first
// n frames (all of them if n is out of range) applied to every frame: padding
// appended to an utterance is normalised like it without weighing in its
// statistics.
func (f *Features) NormalizeBy(n int) {
	if n <= 0 || n > f.Frames {
		n = f.Frames
	}
	if n == 0 {
		return
	}
	for d := range f.Dim {
		var mean float64
		for i := range n {
			mean += f.Data[i*f.Dim+d]
		}
		mean /= float64(n)
		var v float64
		for i := range n {
			x := f.Data[i*f.Dim+d] - mean
			v += x * x
		}
		std := math.Sqrt(v / float64(n))
		scale := 1.0
		if std >= 1e-8 {
			scale = 1 / std
		}
		for i := range f.Frames {
			f.Data[i*f.Dim+d] = (f.Data[i*f.Dim+d] - mean) * scale
		}
	}
}

// Stack returns frames of n consecutive input frames concatenated, one every
// stride input frames: output frame j is input frames j*stride .. j*stride+n-1
// (zeros past the end), ceil(Frames/stride) frames of n*Dim values. Stack(3, 3)
// turns 10 ms frames into 30 ms frames of three times the size.
func (f *Features) Stack(n, stride int) (*Features, error) {
	if n <= 0 || stride <= 0 {
		return nil, errors.Errorf("audio: stacking %d frames every %d", n, stride)
	}
	frames := (f.Frames + stride - 1) / stride
	out := &Features{Frames: frames, Dim: n * f.Dim, Data: make([]float64, frames*n*f.Dim)}
	for j := range frames {
		row := out.Row(j)
		for k := range n {
			i := j*stride + k
			if i < f.Frames {
				copy(row[k*f.Dim:(k+1)*f.Dim], f.Row(i))
			}
		}
	}
	return out, nil
}
