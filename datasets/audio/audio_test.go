package audio

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMelScales(t *testing.T) {
	// HTK: 2595 log10(1 + 1000/700) = 999.99 mel (the scale is built so that
	// 1000 Hz is 1000 mel)
	m, err := HzToMel(1000, HTK)
	require.NoError(t, err)
	require.InDelta(t, 1000, m, 0.05)
	require.InDelta(t, 999.9855, m, 1e-4)
	// Slaney: 1000 Hz is the break, 1000 / (200/3) = 15 mel; 6400 Hz is 27 log
	// steps of ln(6.4)/27 above it: 42 mel; 500 Hz is 7.5 mel
	for _, c := range [][2]float64{{1000, 15}, {6400, 42}, {500, 7.5}, {0, 0}} {
		m, err := HzToMel(c[0], Slaney)
		require.NoError(t, err)
		require.InDelta(t, c[1], m, 1e-12, "%g Hz", c[0])
	}
	for _, s := range []MelScale{HTK, Slaney} {
		for _, f := range []float64{0, 60, 999, 1000, 1001, 3999, 8000} {
			m, _ := HzToMel(f, s)
			back, err := MelToHz(m, s)
			require.NoError(t, err)
			require.InDelta(t, f, back, 1e-9, "%s %g Hz", s, f)
		}
	}
	_, err = HzToMel(1, "bark")
	require.ErrorContains(t, err, "unknown mel scale")
	_, err = MelToHz(1, "bark")
	require.Error(t, err)
}

func TestWindows(t *testing.T) {
	check := func(w Window, n int, periodic bool, want []float64) {
		t.Helper()
		got, err := WindowCoefficients(w, n, periodic)
		require.NoError(t, err)
		require.Len(t, got, n)
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-15, "%s %d periodic=%v [%d]", w, n, periodic, i)
		}
	}
	// 0.5 - 0.5 cos(2 pi n / M): M = 4 (periodic, n = 4) or 4 (symmetric, n = 5)
	check(Hann, 4, true, []float64{0, 0.5, 1, 0.5})
	check(Hann, 5, false, []float64{0, 0.5, 1, 0.5, 0})
	// 0.54 - 0.46 cos(2 pi n / 2)
	check(Hamming, 3, false, []float64{0.08, 1, 0.08})
	check(Hamming, 4, true, []float64{0.08, 0.54, 1, 0.54})
	check(Rectangular, 3, true, []float64{1, 1, 1})
	check(Hann, 1, false, []float64{1})
	_, err := WindowCoefficients("kaiser", 4, true)
	require.ErrorContains(t, err, "unknown window")
	_, err = WindowCoefficients(Hann, 0, true)
	require.Error(t, err)
}

func TestFrames(t *testing.T) {
	// 1 s at 8 kHz in 25 ms frames every 10 ms: 1 + (8000-200)/80 = 98 frames
	require.Equal(t, 98, NumFrames(8000, 200, 80))
	require.Equal(t, 0, NumFrames(199, 200, 80))
	require.Equal(t, 1, NumFrames(200, 200, 80))
	fr, err := Frames([]float32{0, 1, 2, 3, 4, 5, 6}, 3, 2)
	require.NoError(t, err)
	require.Equal(t, [][]float64{{0, 1, 2}, {2, 3, 4}, {4, 5, 6}}, fr)
	_, err = Frames([]float64{1}, 0, 1)
	require.Error(t, err)
	require.Equal(t, 256, NextPow2(200))
	require.Equal(t, 256, NextPow2(256))
	require.Equal(t, 1, NextPow2(0))
}

func tone(freq, rate float64, n int, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/rate)
	}
	return x
}

func TestPowerSpectrumOfATone(t *testing.T) {
	s, err := NewSpectrum(256)
	require.NoError(t, err)
	require.Equal(t, 129, s.Bins())
	// a sinusoid of amplitude A exactly on bin k0 of an N-point rectangular
	// frame has |X_k0| = A N / 2 and nothing elsewhere
	x := tone(1000, 8000, 256, 0.5) // bin 1000 * 256 / 8000 = 32
	p, err := s.Power(nil, x)
	require.NoError(t, err)
	for k, v := range p {
		if k == 32 {
			require.InDelta(t, 64*64, v, 1e-8)
		} else {
			require.InDelta(t, 0, v, 1e-8, "bin %d", k)
		}
	}
	// a Hann-windowed 25 ms frame zero-padded to 256 points: the peak is still
	// at the tone's bin, 1500 * 256 / 8000 = 48
	w, _ := WindowCoefficients(Hann, 200, true)
	frame := tone(1500, 8000, 200, 1)
	for i := range frame {
		frame[i] *= w[i]
	}
	p, err = s.Power(p, frame)
	require.NoError(t, err)
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	require.Equal(t, 48, best)
	_, err = s.Power(nil, make([]float64, 300))
	require.Error(t, err)
	_, err = s.Power(make([]float64, 5), frame)
	require.Error(t, err)
}

func TestMelFilterbank(t *testing.T) {
	const nMels, nfft, rate = 10, 256, 8000
	fb, err := MelFilterbank(nMels, nfft, rate, 0, 0, HTK, false)
	require.NoError(t, err)
	bins := nfft/2 + 1
	require.Len(t, fb, nMels*bins)
	// the corners: 12 points equally spaced in HTK mel from 0 to 4000 Hz
	top, _ := HzToMel(4000, HTK)
	corner := func(i int) float64 { f, _ := MelToHz(top*float64(i)/(nMels+1), HTK); return f }
	for m := range nMels {
		for k := range bins {
			f := float64(k) * rate / nfft
			w := fb[m*bins+k]
			require.GreaterOrEqual(t, w, 0.0)
			require.LessOrEqual(t, w, 1.0)
			if f <= corner(m) || f >= corner(m+2) {
				require.Zero(t, w, "filter %d bin %d", m, k)
			}
		}
	}
	// adjacent triangles share corners, so between the first and the last peak
	// the filters sum to 1
	for k := range bins {
		f := float64(k) * rate / nfft
		if f < corner(1) || f > corner(nMels) {
			continue
		}
		var s float64
		for m := range nMels {
			s += fb[m*bins+k]
		}
		require.InDelta(t, 1, s, 1e-12, "bin %d (%g Hz)", k, f)
	}
	// Slaney normalisation scales filter m by 2 / (f_{m+2} - f_m)
	sl, err := MelFilterbank(nMels, nfft, rate, 0, 0, HTK, true)
	require.NoError(t, err)
	for m := range nMels {
		for k := range bins {
			require.InDelta(t, fb[m*bins+k]*2/(corner(m+2)-corner(m)), sl[m*bins+k], 1e-15)
		}
	}
	_, err = MelFilterbank(10, 256, 8000, 0, 5000, HTK, false)
	require.ErrorContains(t, err, "fmax")
	_, err = MelFilterbank(10, 256, 8000, 0, 0, "bark", false)
	require.Error(t, err)
}

func TestDCT2(t *testing.T) {
	// a constant vector has only c_0 = sqrt(1/M) * sum = 2
	c := DCT2([]float64{1, 1, 1, 1}, 4)
	require.InDelta(t, 2, c[0], 1e-15)
	for _, v := range c[1:] {
		require.InDelta(t, 0, v, 1e-15)
	}
	// x = (1, 2): c_0 = 3/sqrt(2), c_1 = cos(pi/4) + 2 cos(3 pi/4) = -1/sqrt(2)
	c = DCT2([]float64{1, 2}, 2)
	require.InDelta(t, 3/math.Sqrt2, c[0], 1e-15)
	require.InDelta(t, -1/math.Sqrt2, c[1], 1e-15)
	// orthonormal: energy is preserved
	x := []float64{0.3, -1.2, 2.5, 0.1, -0.7}
	c = DCT2(x, 5)
	var ex, ec float64
	for i := range x {
		ex += x[i] * x[i]
		ec += c[i] * c[i]
	}
	require.InDelta(t, ex, ec, 1e-12)
}

func TestExtractor(t *testing.T) {
	e, err := NewExtractor(Config{SampleRate: 8000})
	require.NoError(t, err)
	cfg := e.Config()
	require.Equal(t, 200, e.FrameLength())
	require.Equal(t, 80, e.Hop())
	require.Equal(t, 256, cfg.NFFT)
	require.Equal(t, 40, cfg.Mels)
	require.Equal(t, HTK, cfg.Scale)
	x := tone(1000, 8000, 8000, 0.3)
	lm := e.LogMel(x)
	require.Equal(t, 98, lm.Frames)
	require.Equal(t, 40, lm.Dim)
	// the filter peaking nearest 1000 Hz holds the most energy in every frame
	top, _ := HzToMel(4000, HTK)
	m1000, _ := HzToMel(1000, HTK)
	want := int(math.Round(m1000/top*41)) - 1 // centre of filter m is corner m+1
	for i := range lm.Frames {
		row := lm.Row(i)
		best := 0
		for m := range row {
			if row[m] > row[best] {
				best = m
			}
		}
		require.Equal(t, want, best, "frame %d", i)
	}
	// silence hits the floor
	sil := e.LogMel(make([]float64, 400))
	require.Equal(t, 3, sil.Frames)
	require.InDelta(t, math.Log(1e-10), sil.Data[0], 1e-12)
	// MFCC: c_0 = sqrt(1/M) sum of the log-mels
	mf, err := e.MFCC(x, 13)
	require.NoError(t, err)
	require.Equal(t, 13, mf.Dim)
	var s float64
	for _, v := range lm.Row(5) {
		s += v
	}
	require.InDelta(t, s/math.Sqrt(40), mf.Row(5)[0], 1e-9)
	_, err = e.MFCC(x, 41)
	require.Error(t, err)
	// the power spectrogram peaks at bin 32
	ps := e.PowerSpectrogram(x)
	require.Equal(t, 129, ps.Dim)
	row := ps.Row(0)
	best := 0
	for k := range row {
		if row[k] > row[best] {
			best = k
		}
	}
	require.Equal(t, 32, best)
	// pre-emphasis changes the frames, Slaney's scale the filterbank
	pe, err := NewExtractor(Config{SampleRate: 8000, Preemphasis: 0.97, Scale: Slaney, SlaneyNorm: true, Window: Hamming})
	require.NoError(t, err)
	require.NotEqual(t, lm.Data, pe.LogMel(x).Data)

	for _, bad := range []Config{{}, {SampleRate: 8000, NFFT: 128}, {SampleRate: 8000, Window: "x"}, {SampleRate: 8000, Preemphasis: 1},
		{SampleRate: 8000, FMax: 9000}, {SampleRate: 8000, HopMs: 0.01}} {
		_, err := NewExtractor(bad)
		require.Error(t, err, "%+v", bad)
	}
}

func TestNormalizeAndStack(t *testing.T) {
	f := &Features{Frames: 4, Dim: 2, Data: []float64{1, 5, 2, 5, 3, 5, 6, 5}}
	f.Normalize()
	// column 0: mean 3, population std sqrt((4+1+0+9)/4) = sqrt(3.5)
	sd := math.Sqrt(3.5)
	want := []float64{-2 / sd, 0, -1 / sd, 0, 0, 0, 3 / sd, 0}
	for i := range want {
		require.InDelta(t, want[i], f.Data[i], 1e-15)
	}
	// statistics of the first two frames only: column 0 has mean 1.5, std 0.5
	h := &Features{Frames: 3, Dim: 1, Data: []float64{1, 2, 10}}
	h.NormalizeBy(2)
	require.Equal(t, []float64{-1, 1, 17}, h.Data)
	g := &Features{Frames: 5, Dim: 2, Data: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	st, err := g.Stack(3, 3)
	require.NoError(t, err)
	require.Equal(t, 2, st.Frames)
	require.Equal(t, 6, st.Dim)
	require.Equal(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0}, st.Data)
	st, err = g.Stack(2, 1)
	require.NoError(t, err)
	require.Equal(t, 5, st.Frames)
	require.Equal(t, []float64{8, 9, 0, 0}, st.Row(4))
	_, err = g.Stack(0, 1)
	require.Error(t, err)
	empty := &Features{Dim: 3}
	empty.Normalize()
}
