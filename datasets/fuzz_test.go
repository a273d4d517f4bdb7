package datasets

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Fuzz targets: the parsers must return an error, never panic or allocate
// without bound, whatever the input; what they accept must be self-consistent.
// Run one with, for example:
//
//	go test -run='^$' -fuzz=FuzzReadIDX -fuzztime=60s ./datasets/

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(IDXUint8, []uint32{2, 3}, []byte{0, 1, 2, 3, 4, 5}))
	f.Add(idxBytes(IDXUint8, []uint32{1, 28, 28}, make([]byte, 784)))
	f.Add(idxBytes(IDXInt16, []uint32{2}, []byte{0xff, 0xfe, 1, 0}))
	f.Add(idxBytes(IDXInt32, []uint32{1}, []byte{0, 0, 0, 7}))
	f.Add(idxBytes(IDXFloat32, []uint32{1, 1}, []byte{0x3f, 0xc0, 0, 0}))
	f.Add(idxBytes(IDXFloat64, []uint32{1}, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}))
	f.Add(idxBytes(IDXUint8, []uint32{0}, nil))
	f.Add(idxBytes(IDXUint8, []uint32{4}, []byte{1, 2}))
	f.Add([]byte{0, 0, 8})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadIDX(bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if x.Len() != n || len(x.Data) != n*x.Type.Size() {
			t.Fatalf("dims %v of %s but %d data bytes", x.Dims, x.Type, len(x.Data))
		}
		if len(x.Float64s()) != n {
			t.Fatal("Float64s length differs from Len")
		}
		if !bytes.Equal(data, append(data[:4+4*len(x.Dims):4+4*len(x.Dims)], x.Data...)) {
			t.Fatal("accepted input is not header plus data")
		}
	})
}

func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, pcm16(0, 100, -100, 32767, -32768)))
	f.Add(wavBytes(wavSpec{format: 1, channels: 2, rate: 44100, bits: 16}, pcm16(1, 2, 3, 4)))
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 8}, []byte{0, 128, 255}))
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 24}, []byte{1, 2, 3}))
	f.Add(wavBytes(wavSpec{format: 3, channels: 1, rate: 8000, bits: 32}, []byte{0, 0, 0x80, 0x7f}))
	f.Add(wavBytes(wavSpec{format: 3, channels: 1, rate: 8000, bits: 64}, make([]byte, 8)))
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, extensible: true}, pcm16(5)))
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, extra: []byte("LIST\x01\x00\x00\x00x\x00")}, pcm16(5)))
	f.Add(wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, riffSize: math.MaxUint32}, pcm16(5)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Add([]byte("RIFF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, rate, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if rate <= 0 {
			t.Fatalf("sample rate %d accepted", rate)
		}
		for i, s := range samples {
			if !(s >= -1 && s <= 1) {
				t.Fatalf("sample %d is %v, outside [-1, 1]", i, s)
			}
		}
		_, frames, err := ReadWAVHeader(bytes.NewReader(data))
		if err != nil || frames != len(samples) {
			t.Fatalf("header says %d frames (%v), decoded %d", frames, err, len(samples))
		}
	})
}

// FuzzReadText feeds the line-based parsers: plain lines, classification TSV,
// pronouncing dictionary, and the CESU-8 repair.
func FuzzReadText(f *testing.F) {
	f.Add([]byte("First Citizen:\nBefore we proceed\n"))
	f.Add([]byte("AddToPlaylist\tAdd another song\nRateBook\trate it 5\n"))
	f.Add([]byte("a\r\nb\n\nc"))
	f.Add([]byte("'bout B AW T\na(2) AH\n;;; comment\nabode AH0 B OW1 D\n"))
	f.Add([]byte("PlayMusic\tPop \xed\xa0\xbc\xed\xbd\x95 off\n"))
	f.Add([]byte("bad\xff\tutf8\n"))
	f.Add([]byte("\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := ReadLines(bytes.NewReader(data))
		if err == nil {
			for _, l := range lines {
				if strings.ContainsRune(l, '\n') || !utf8.ValidString(l) {
					t.Fatalf("bad line %q", l)
				}
			}
			if !bytes.ContainsRune(data, '\r') {
				joined := strings.Join(lines, "\n")
				if len(lines) > 0 && bytes.HasSuffix(data, []byte("\n")) {
					joined += "\n"
				}
				if joined != string(data) {
					t.Fatalf("lines %q do not rebuild %q", lines, data)
				}
			}
		}
		if rows, err := ReadLabeledTSV(bytes.NewReader(data)); err == nil {
			for _, r := range rows {
				if r.Label == "" || strings.IndexFunc(r.Label, unicode.IsSpace) >= 0 || strings.TrimSpace(r.Text) == "" {
					t.Fatalf("bad row %+v", r)
				}
			}
		}
		if entries, err := ReadCMUDict(bytes.NewReader(data)); err == nil {
			for _, e := range entries {
				if e.Word == "" || len(e.Phones) == 0 || e.Variant < 1 {
					t.Fatalf("bad entry %+v", e)
				}
			}
		}
		fixed := RepairCESU8(data)
		if utf8.Valid(data) && !bytes.Equal(fixed, data) {
			t.Fatal("valid UTF-8 was changed")
		}
		if len(fixed) > len(data) {
			t.Fatal("repair made the text longer")
		}
	})
}
