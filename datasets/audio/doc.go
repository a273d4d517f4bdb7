// Package audio turns waveforms into the features speech models read: frames,
// analysis windows, power spectra, mel filterbanks, log-mel energies, MFCCs,
// per-utterance mean and variance normalisation, and frame stacking.
//
// The pipeline of Extractor, for a signal x sampled at rate r:
//
//	frames     x[i*hop : i*hop+N], i = 0 .. (len(x)-N)/hop (no padding: Kaldi's
//	           snip-edges convention), N = r * 25 ms, hop = r * 10 ms by default
//	window     w_n: Hann 0.5 - 0.5 cos(2 pi n / M) or Hamming 0.54 - 0.46 cos(2 pi n / M),
//	           M = N (periodic, as torch.hann_window and scipy.signal.get_window
//	           default to) or N-1 (symmetric)
//	spectrum   P_k = |sum_n w_n x_n exp(-2 pi i k n / K)|^2, k = 0 .. K/2, the frame
//	           zero-padded to K = NFFT points (gonum.org/v1/gonum/dsp/fourier)
//	mel        m = 2595 log10(1 + f / 700) (HTK; O'Shaughnessy 1987), or Slaney's
//	           (Auditory Toolbox, 1998): linear, f / (200/3), below 1 kHz and
//	           15 + 27 ln(f / 1000) / ln 6.4 above
//	filterbank triangles with corners at M+2 points equally spaced on the mel
//	           scale from FMin to FMax, evaluated at the bin frequencies k r / K,
//	           peak 1 (HTK) or area-normalised by 2 / (f_{m+2} - f_m) (Slaney)
//	log-mel    log(max(E_m, Floor)), E_m = sum_k H_mk P_k
//	MFCC       the orthonormal DCT-II of the log-mel vector, first NumCeps terms:
//	           c_j = s_j sum_m L_m cos(pi j (m + 1/2) / M), s_0 = sqrt(1/M),
//	           s_j = sqrt(2/M)
//
// Features hold frames row-major; Normalize subtracts each dimension's mean over
// the utterance and divides by its standard deviation (cepstral mean and
// variance normalisation, per utterance); Stack concatenates neighbouring frames
// and subsamples them, which shortens the sequences a recurrent network reads.
//
// DigitCorpus reads the Free Spoken Digit Dataset (one WAV a spoken digit,
// named digit_speaker_take), and the utterance generator concatenates its clips
// with random silences into multi-digit utterances with their digit labels: the
// data of connected-digit recognition, drawn per split and seed.
package audio
