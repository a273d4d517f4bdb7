package datasets

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadWAV16Mono(t *testing.T) {
	in := wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, pcm16(0, 16384, -32768, 32767))
	s, rate, err := ReadWAV(bytes.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, 8000, rate)
	// 16-bit PCM is scaled by 2^15: -32768 -> -1, 32767 -> 1 - 2^-15.
	assert.Equal(t, []float32{0, 0.5, -1, float32(32767.0 / 32768)}, s)

	f, frames, err := ReadWAVHeader(bytes.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, 4, frames)
	assert.Equal(t, WAVFormat{Format: 1, Channels: 1, SampleRate: 8000, BitsPerSample: 16, BlockAlign: 2}, f)
}

func TestReadWAV8BitAndStereo(t *testing.T) {
	// 8-bit PCM is unsigned with 128 as zero.
	s, rate, err := ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 11025, bits: 8}, []byte{128, 0, 255, 192})))
	require.NoError(t, err)
	assert.Equal(t, 11025, rate)
	assert.Equal(t, []float32{0, -1, 127.0 / 128, 0.5}, s)

	// Stereo is mixed down by averaging the channels.
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 2, rate: 44100, bits: 16}, pcm16(16384, 0, -32768, -16384))))
	require.NoError(t, err)
	assert.Equal(t, []float32{0.25, -0.75}, s)

	// Stereo 8-bit.
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 2, rate: 8000, bits: 8}, []byte{255, 1, 128, 192})))
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{0, 0.25}, s, 1e-6)
}

func TestReadWAVOtherFormats(t *testing.T) {
	// 24-bit: 0x400000 is half of full scale 2^23; 0x800000 is -1.
	s, _, err := ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 16000, bits: 24}, []byte{0, 0, 0x40, 0, 0, 0x80})))
	require.NoError(t, err)
	assert.Equal(t, []float32{0.5, -1}, s)

	// 32-bit integer.
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, int32(-1<<30))
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 16000, bits: 32}, b.Bytes())))
	require.NoError(t, err)
	assert.Equal(t, []float32{-0.5}, s)

	// Float samples are clipped to [-1, 1]; NaN becomes 0.
	b.Reset()
	for _, v := range []float32{0.25, 3, -2, float32(math.NaN())} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 3, channels: 1, rate: 16000, bits: 32}, b.Bytes())))
	require.NoError(t, err)
	assert.Equal(t, []float32{0.25, 1, -1, 0}, s)

	// WAVE_FORMAT_EXTENSIBLE with a PCM sub-format.
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, extensible: true}, pcm16(-16384))))
	require.NoError(t, err)
	assert.Equal(t, []float32{-0.5}, s)

	// Unknown chunks (odd-sized, hence padded) before the data are skipped.
	extra := append([]byte("LIST"), 3, 0, 0, 0, 'a', 'b', 'c', 0)
	extra = append(extra, []byte("fact")...)
	extra = append(extra, 4, 0, 0, 0, 1, 0, 0, 0)
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, extra: extra}, pcm16(8192))))
	require.NoError(t, err)
	assert.Equal(t, []float32{0.25}, s)

	// A streaming writer's RIFF size of 0xFFFFFFFF bounds nothing.
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, riffSize: -1 + 1<<32}, pcm16(8192))))
	require.NoError(t, err)
	assert.Equal(t, []float32{0.25}, s)

	// Empty data chunk.
	s, _, err = ReadWAV(bytes.NewReader(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, nil)))
	require.NoError(t, err)
	assert.Empty(t, s)
}

func TestReadWAVErrors(t *testing.T) {
	good := wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, pcm16(1, 2, 3))
	corrupt := func(off int, b ...byte) []byte {
		c := append([]byte(nil), good...)
		copy(c[off:], b)
		return c
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated RIFF header"},
		{"short header", good[:10], "truncated RIFF header"},
		{"not riff", corrupt(0, 'R', 'I', 'F', 'X'), "RIFX"},
		{"not riff at all", corrupt(0, 'J', 'U', 'N', 'K'), "not a WAV file"},
		{"not wave", corrupt(8, 'A', 'V', 'I', ' '), "form type"},
		{"riff too small", corrupt(4, 2, 0, 0, 0), "too small"},
		{"truncated fmt", good[:30], "truncated fmt chunk"},
		{"truncated chunk header", good[:38], "truncated chunk header"},
		{"truncated data", good[:len(good)-1], "data chunk truncated"},
		{"zero channels", corrupt(22, 0, 0), "zero channels"},
		{"zero rate", corrupt(24, 0, 0, 0, 0), "zero sample rate"},
		{"bad block align", corrupt(32, 3, 0), "block align 3"},
		{"12-bit", corrupt(34, 12, 0), "12-bit integer PCM"},
		{"adpcm", corrupt(20, 2, 0), "format tag 0x0002"},
		{"short fmt", corrupt(16, 8, 0, 0, 0), "fmt chunk of 8 bytes"},
		{"partial frame", wavBytes(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16}, pcm16(1, 2, 3)), "not a whole number"},
		{"data before fmt", append([]byte("RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00"), 0, 0, 0, 0), "data chunk before the fmt chunk"},
		{"no data", []byte("RIFF\x04\x00\x00\x00WAVE"), "no data chunk"},
		{"no data unbounded", []byte("RIFF\x00\x00\x00\x00WAVE"), "no data chunk"},
		{"chunk past riff", wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, riffSize: 38}, pcm16(1, 2)), "runs past the end of the RIFF chunk"},
		{"truncated other chunk", append([]byte("RIFF\x00\x00\x00\x00WAVELIST\x10\x00\x00\x00"), 1, 2), "chunk \"LIST\" truncated"},
		{"float 16", wavBytes(wavSpec{format: 3, channels: 1, rate: 8000, bits: 16}, pcm16(1)), "16-bit float"},
		{"huge data claim", wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, riffSize: -1 + 1<<32, dataSize: 1 << 30}, pcm16(1)), "data chunk truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadWAV(bytes.NewReader(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// Two fmt chunks.
	fmtChunk := good[12:36]
	two := append(append(append([]byte("RIFF\x00\x00\x00\x00WAVE"), fmtChunk...), fmtChunk...), good[36:]...)
	_, _, err := ReadWAV(bytes.NewReader(two))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "two fmt chunks")
}

func TestLoadWAVNamesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "3_x_0.wav")
	writeFile(t, p, wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, pcm16(1, 2, 3))[:45])
	_, _, err := LoadWAV(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "data chunk truncated")

	_, _, err = LoadWAV(filepath.Join(dir, "absent.wav"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.wav")
}
