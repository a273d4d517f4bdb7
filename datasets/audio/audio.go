package audio

import (
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/dsp/fourier"
)

// Window names an analysis window.
type Window string

// The windows.
const (
	Hann        Window = "hann"
	Hamming     Window = "hamming"
	Rectangular Window = "rectangular"
)

// WindowCoefficients returns the n coefficients of window w: periodic (the
// first n points of a window of n+1, as torch.hann_window(n) and
// scipy.signal.get_window give) or symmetric (w_0 = w_{n-1}, as numpy.hanning
// gives).
func WindowCoefficients(w Window, n int, periodic bool) ([]float64, error) {
	if n <= 0 {
		return nil, errors.Errorf("audio: window of %d points", n)
	}
	out := make([]float64, n)
	m := float64(n)
	if !periodic {
		m = float64(n - 1)
	}
	var a0 float64
	switch w {
	case Hann:
		a0 = 0.5
	case Hamming:
		a0 = 0.54
	case Rectangular:
		for i := range out {
			out[i] = 1
		}
		return out, nil
	default:
		return nil, errors.Errorf("audio: unknown window %q (hann, hamming, rectangular)", w)
	}
	if m == 0 { // a symmetric window of one point
		out[0] = 1
		return out, nil
	}
	for i := range out {
		out[i] = a0 - (1-a0)*math.Cos(2*math.Pi*float64(i)/m)
	}
	return out, nil
}

// NumFrames returns how many frames of length frameLen, hop samples apart,
// fit in n samples without padding: 1 + (n - frameLen) / hop, or 0 when n <
// frameLen.
func NumFrames(n, frameLen, hop int) int {
	if n < frameLen || frameLen <= 0 || hop <= 0 {
		return 0
	}
	return 1 + (n-frameLen)/hop
}

// Frames cuts x into NumFrames(len(x), frameLen, hop) frames, copies of
// x[i*hop : i*hop+frameLen].
func Frames[F float32 | float64](x []F, frameLen, hop int) ([][]float64, error) {
	if frameLen <= 0 || hop <= 0 {
		return nil, errors.Errorf("audio: frame length %d and hop %d must be positive", frameLen, hop)
	}
	n := NumFrames(len(x), frameLen, hop)
	out := make([][]float64, n)
	for i := range out {
		f := make([]float64, frameLen)
		for j := range f {
			f[j] = float64(x[i*hop+j])
		}
		out[i] = f
	}
	return out, nil
}

// NextPow2 returns the smallest power of two at least n (1 for n <= 1).
func NextPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// Spectrum computes power spectra of nfft points. It keeps its FFT plan and
// buffers, so it is not safe for concurrent use.
type Spectrum struct {
	nfft  int
	fft   *fourier.FFT
	buf   []float64
	coeff []complex128
}

// NewSpectrum returns a power-spectrum computer for nfft points (any positive
// length; powers of two are fastest).
func NewSpectrum(nfft int) (*Spectrum, error) {
	if nfft <= 0 {
		return nil, errors.Errorf("audio: FFT of %d points", nfft)
	}
	return &Spectrum{nfft: nfft, fft: fourier.NewFFT(nfft), buf: make([]float64, nfft), coeff: make([]complex128, nfft/2+1)}, nil
}

// Bins returns the number of non-negative frequency bins, nfft/2 + 1.
func (s *Spectrum) Bins() int { return s.nfft/2 + 1 }

// Power writes |X_k|^2, k = 0 .. nfft/2, of frame (at most nfft samples,
// zero-padded to nfft) into dst (Bins() long, nil to allocate) and returns it.
// Bin k is the frequency k * sampleRate / nfft.
func (s *Spectrum) Power(dst, frame []float64) ([]float64, error) {
	if len(frame) > s.nfft {
		return nil, errors.Errorf("audio: frame of %d samples for an FFT of %d points", len(frame), s.nfft)
	}
	if dst == nil {
		dst = make([]float64, s.Bins())
	} else if len(dst) != s.Bins() {
		return nil, errors.Errorf("audio: power spectrum buffer of %d, want %d", len(dst), s.Bins())
	}
	copy(s.buf, frame)
	clear(s.buf[len(frame):])
	s.fft.Coefficients(s.coeff, s.buf)
	for k, c := range s.coeff {
		dst[k] = real(c)*real(c) + imag(c)*imag(c)
	}
	return dst, nil
}

// DCT2 returns the first n coefficients of the orthonormal DCT-II of x
// (scipy.fft.dct(x, type=2, norm="ortho")[:n]):
// c_j = s_j sum_m x_m cos(pi j (m + 1/2) / M), s_0 = sqrt(1/M), s_j = sqrt(2/M).
func DCT2(x []float64, n int) []float64 {
	m := len(x)
	out := make([]float64, n)
	for j := range out {
		var s float64
		for i, v := range x {
			s += v * math.Cos(math.Pi*float64(j)*(float64(i)+0.5)/float64(m))
		}
		scale := math.Sqrt(2 / float64(m))
		if j == 0 {
			scale = math.Sqrt(1 / float64(m))
		}
		out[j] = scale * s
	}
	return out
}
