package datasets

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

// idxBytes builds an IDX file: magic 00 00 type ndims, big-endian dims, data.
func idxBytes(t IDXType, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, byte(t), byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

// wavSpec describes a WAV fixture.
type wavSpec struct {
	format, channels, rate, bits int
	blockAlign                   int    // 0: channels*bits/8
	extra                        []byte // chunks inserted between fmt and data
	riffSize                     int    // 0: the true size
	dataSize                     int    // 0: len(data)
	extensible                   bool
}

// wavBytes builds a RIFF/WAVE file holding data.
func wavBytes(s wavSpec, data []byte) []byte {
	le := binary.LittleEndian
	var fmtc bytes.Buffer
	tag := s.format
	if s.extensible {
		tag = wavFormatExtensible
	}
	ba := s.blockAlign
	if ba == 0 {
		ba = s.channels * s.bits / 8
	}
	binary.Write(&fmtc, le, uint16(tag))
	binary.Write(&fmtc, le, uint16(s.channels))
	binary.Write(&fmtc, le, uint32(s.rate))
	binary.Write(&fmtc, le, uint32(s.rate*ba))
	binary.Write(&fmtc, le, uint16(ba))
	binary.Write(&fmtc, le, uint16(s.bits))
	if s.extensible {
		binary.Write(&fmtc, le, uint16(22))     // cbSize
		binary.Write(&fmtc, le, uint16(s.bits)) // valid bits
		binary.Write(&fmtc, le, uint32(0))      // channel mask
		binary.Write(&fmtc, le, uint16(s.format))
		fmtc.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	body.WriteString("fmt ")
	binary.Write(&body, le, uint32(fmtc.Len()))
	body.Write(fmtc.Bytes())
	body.Write(s.extra)
	body.WriteString("data")
	ds := s.dataSize
	if ds == 0 {
		ds = len(data)
	}
	binary.Write(&body, le, uint32(ds))
	body.Write(data)
	var out bytes.Buffer
	out.WriteString("RIFF")
	rs := s.riffSize
	if rs == 0 {
		rs = body.Len()
	}
	binary.Write(&out, le, uint32(rs))
	out.Write(body.Bytes())
	return out.Bytes()
}

// pcm16 encodes samples as 16-bit little-endian PCM.
func pcm16(samples ...int16) []byte {
	var b bytes.Buffer
	for _, s := range samples {
		binary.Write(&b, binary.LittleEndian, s)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// localFinder searches $TRIAD_DATA (relative entries also from the module root)
// and shared/data beside the module root, never the user cache, and never
// downloads.
func localFinder() *Finder {
	return &Finder{Dirs: testenv.Dirs(), Offline: true}
}

// realData returns the verified directory of a registered dataset. It skips the
// test when no copy is present, and fails it when a copy is present but does
// not verify.
func realData(t testing.TB, name string) string {
	t.Helper()
	f := localFinder()
	present := false
	for _, d := range f.Dirs {
		if st, err := os.Stat(filepath.Join(d, name)); err == nil && st.IsDir() {
			present = true
		}
	}
	if !present {
		t.Skipf("dataset %s not found in $TRIAD_DATA or ../shared/data; skipping", name)
	}
	dir, err := f.Find(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
