package datasets

import (
	"encoding/binary"
	"io"
	"math"
	"os"

	"github.com/pkg/errors"
)

// WAV layout, as Microsoft's RIFF/WAVE specification ("Multimedia Programming
// Interface and Data Specifications 1.0", 1991) and its WAVE_FORMAT_EXTENSIBLE
// addendum describe it: a "RIFF" chunk of form type "WAVE" holds sub-chunks, each
// a four-byte id, a little-endian 32-bit size and the payload padded to an even
// length; the "fmt " chunk (at least 16 bytes: format tag, channels, sample rate,
// byte rate, block align, bits per sample) comes before the "data" chunk of
// interleaved samples. 8-bit PCM samples are unsigned, wider ones signed.
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatExtensible = 0xFFFE
	// maxFmtChunk bounds the fmt chunk we are willing to read into memory; real
	// ones are 16, 18 or 40 bytes.
	maxFmtChunk = 1 << 16
)

// WAVFormat describes the samples of a WAV file.
type WAVFormat struct {
	// Format is 1 for integer PCM, 3 for IEEE float (after resolving
	// WAVE_FORMAT_EXTENSIBLE to its sub-format).
	Format int
	// Channels is the number of interleaved channels.
	Channels int
	// SampleRate is in samples per second per channel.
	SampleRate int
	// BitsPerSample is the container size of one sample of one channel.
	BitsPerSample int
	// BlockAlign is the size in bytes of one frame (one sample of every channel).
	BlockAlign int
}

// ReadWAVHeader reads r up to the start of the samples and returns their format
// and the number of frames (samples per channel) that follow. r is left at the
// first sample.
func ReadWAVHeader(r io.Reader) (WAVFormat, int, error) {
	var hdr [12]byte
	if err := readWAVBytes(r, hdr[:], "RIFF header"); err != nil {
		return WAVFormat{}, 0, err
	}
	switch string(hdr[0:4]) {
	case "RIFF":
	case "RIFX":
		return WAVFormat{}, 0, errors.New("big-endian RIFX files are not supported")
	default:
		return WAVFormat{}, 0, errors.Errorf("not a WAV file: starts with %q, want \"RIFF\"", hdr[0:4])
	}
	if string(hdr[8:12]) != "WAVE" {
		return WAVFormat{}, 0, errors.Errorf("RIFF form type is %q, want \"WAVE\"", hdr[8:12])
	}
	riffSize := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	// Streaming writers leave the size 0 or all ones; then it bounds nothing.
	bounded := riffSize != 0 && riffSize != 0xFFFFFFFF
	if bounded && riffSize < 4 {
		return WAVFormat{}, 0, errors.Errorf("RIFF chunk size %d is too small to hold the form type", riffSize)
	}
	left := riffSize - 4 // bytes of the RIFF chunk after the form type

	var format *WAVFormat
	for {
		if bounded && left < 8 {
			return WAVFormat{}, 0, errors.New("no data chunk within the RIFF chunk")
		}
		var ch [8]byte
		if n, err := io.ReadFull(r, ch[:]); err != nil {
			if n == 0 && err == io.EOF {
				return WAVFormat{}, 0, errors.New("no data chunk")
			}
			return WAVFormat{}, 0, errors.New("truncated chunk header")
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		left -= 8
		if bounded && size > left {
			return WAVFormat{}, 0, errors.Errorf("chunk %q of %d bytes runs past the end of the RIFF chunk (%d bytes left)", id, size, left)
		}
		switch id {
		case "fmt ":
			if format != nil {
				return WAVFormat{}, 0, errors.New("two fmt chunks")
			}
			if size < 16 || size > maxFmtChunk {
				return WAVFormat{}, 0, errors.Errorf("fmt chunk of %d bytes, want 16 to %d", size, maxFmtChunk)
			}
			buf := make([]byte, size+size%2)
			if err := readWAVBytes(r, buf[:size], "fmt chunk"); err != nil {
				return WAVFormat{}, 0, err
			}
			if size%2 == 1 {
				_, _ = io.ReadFull(r, buf[size:]) // pad byte; its absence shows up later
			}
			f, err := parseFmt(buf[:size])
			if err != nil {
				return WAVFormat{}, 0, err
			}
			format = &f
		case "data":
			if format == nil {
				return WAVFormat{}, 0, errors.New("data chunk before the fmt chunk")
			}
			if size%int64(format.BlockAlign) != 0 {
				return WAVFormat{}, 0, errors.Errorf("data chunk of %d bytes is not a whole number of %d-byte frames", size, format.BlockAlign)
			}
			return *format, int(size / int64(format.BlockAlign)), nil
		default:
			skip := size + size%2
			n, err := io.CopyN(io.Discard, r, skip)
			if err != nil && !(err == io.EOF && n == size) { // a missing final pad byte is harmless here
				return WAVFormat{}, 0, errors.Errorf("chunk %q truncated: %d of %d bytes present", id, n, size)
			}
		}
		left -= size + size%2
	}
}

// parseFmt decodes and checks a fmt chunk.
func parseFmt(b []byte) (WAVFormat, error) {
	le := binary.LittleEndian
	f := WAVFormat{
		Format:        int(le.Uint16(b[0:2])),
		Channels:      int(le.Uint16(b[2:4])),
		SampleRate:    int(le.Uint32(b[4:8])),
		BlockAlign:    int(le.Uint16(b[12:14])),
		BitsPerSample: int(le.Uint16(b[14:16])),
	}
	if f.Format == wavFormatExtensible {
		// cbSize (2), valid bits (2), channel mask (4), then a GUID whose first
		// two bytes are the sub-format tag.
		if len(b) < 40 {
			return f, errors.Errorf("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want at least 40", len(b))
		}
		f.Format = int(le.Uint16(b[24:26]))
	}
	if f.Channels == 0 {
		return f, errors.New("fmt chunk: zero channels")
	}
	if f.SampleRate == 0 {
		return f, errors.New("fmt chunk: zero sample rate")
	}
	switch f.Format {
	case wavFormatPCM:
		switch f.BitsPerSample {
		case 8, 16, 24, 32:
		default:
			return f, errors.Errorf("fmt chunk: %d-bit integer PCM is not supported (8, 16, 24 or 32)", f.BitsPerSample)
		}
	case wavFormatFloat:
		if f.BitsPerSample != 32 && f.BitsPerSample != 64 {
			return f, errors.Errorf("fmt chunk: %d-bit float samples are not supported (32 or 64)", f.BitsPerSample)
		}
	default:
		return f, errors.Errorf("fmt chunk: format tag 0x%04x is not supported (PCM 0x0001 or float 0x0003)", f.Format)
	}
	if want := f.Channels * f.BitsPerSample / 8; f.BlockAlign != want {
		return f, errors.Errorf("fmt chunk: block align %d, want %d for %d channels of %d bits", f.BlockAlign, want, f.Channels, f.BitsPerSample)
	}
	return f, nil
}

func readWAVBytes(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errors.Errorf("truncated %s", what)
		}
		return errors.Wrapf(err, "reading the %s", what)
	}
	return nil
}

// ReadWAV decodes a RIFF/WAVE file of integer PCM (8, 16, 24 or 32 bits) or
// float samples (32 or 64 bits), any number of channels, into mono samples in
// [-1, 1]: channels are averaged; an integer sample is divided by 2^(bits-1)
// (8-bit samples are unsigned, offset by 128); float samples are clipped. Chunks
// other than "fmt " and "data" are skipped; anything after the data chunk is not
// read. Errors say what is wrong with the file.
func ReadWAV(r io.Reader) (samples []float32, sampleRate int, err error) {
	f, frames, err := ReadWAVHeader(r)
	if err != nil {
		return nil, 0, err
	}
	size := int64(frames) * int64(f.BlockAlign)
	data, err := readUpTo(r, size)
	if err != nil {
		return nil, 0, errors.Wrap(err, "reading the data chunk")
	}
	if int64(len(data)) < size {
		return nil, 0, errors.Errorf("data chunk truncated: header says %d bytes, %d present", size, len(data))
	}
	return decodeFrames(data, f, frames), f.SampleRate, nil
}

// readUpTo reads up to n bytes, growing its buffer as data arrives so that a
// header claiming a huge size cannot make it allocate more than is there.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	const step = 1 << 20
	buf := make([]byte, 0, min(n, step))
	for int64(len(buf)) < n {
		want := min(n-int64(len(buf)), step)
		if int64(cap(buf)-len(buf)) < want {
			grown := make([]byte, len(buf), min(n, int64(2*cap(buf))+want))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+int(want)])
		buf = buf[:len(buf)+m]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func decodeFrames(data []byte, f WAVFormat, frames int) []float32 {
	out := make([]float32, frames)
	bps := f.BitsPerSample / 8
	scale := 1 / float64(f.Channels)
	le := binary.LittleEndian
	for i := range out {
		var sum float64
		for c := 0; c < f.Channels; c++ {
			b := data[(i*f.Channels+c)*bps:]
			var v float64
			switch {
			case f.Format == wavFormatFloat && bps == 4:
				v = float64(math.Float32frombits(le.Uint32(b)))
			case f.Format == wavFormatFloat:
				v = math.Float64frombits(le.Uint64(b))
			case bps == 1:
				v = (float64(b[0]) - 128) / 128
			case bps == 2:
				v = float64(int16(le.Uint16(b))) / (1 << 15)
			case bps == 3:
				v = float64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)>>8) / (1 << 23)
			default:
				v = float64(int32(le.Uint32(b))) / (1 << 31)
			}
			if math.IsNaN(v) {
				v = 0
			}
			sum += max(-1, min(1, v))
		}
		out[i] = float32(sum * scale)
	}
	return out
}

// LoadWAV reads the WAV file at path; see ReadWAV. Errors name the file.
func LoadWAV(path string) (samples []float32, sampleRate int, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	samples, sampleRate, err = ReadWAV(fh)
	if err != nil {
		return nil, 0, errors.Wrap(err, path)
	}
	return samples, sampleRate, nil
}
