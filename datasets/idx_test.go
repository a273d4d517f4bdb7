package datasets

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadIDXTypes(t *testing.T) {
	x, err := ReadIDX(bytes.NewReader(idxBytes(IDXUint8, []uint32{2, 3}, []byte{0, 1, 2, 253, 254, 255})))
	require.NoError(t, err)
	assert.Equal(t, IDXUint8, x.Type)
	assert.Equal(t, []int{2, 3}, x.Dims)
	assert.Equal(t, 6, x.Len())
	assert.Equal(t, []float64{0, 1, 2, 253, 254, 255}, x.Float64s())

	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXInt8, []uint32{2}, []byte{0x80, 0x7f})))
	require.NoError(t, err)
	assert.Equal(t, []float64{-128, 127}, x.Float64s())

	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXInt16, []uint32{2}, []byte{0xff, 0xfe, 0x01, 0x00})))
	require.NoError(t, err)
	assert.Equal(t, []float64{-2, 256}, x.Float64s())

	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXInt32, []uint32{1}, []byte{0xff, 0xff, 0xff, 0xfd})))
	require.NoError(t, err)
	assert.Equal(t, []float64{-3}, x.Float64s())

	var f32 [4]byte
	binary.BigEndian.PutUint32(f32[:], math.Float32bits(1.5))
	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXFloat32, []uint32{1, 1}, f32[:])))
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5}, x.Float64s())

	var f64 [8]byte
	binary.BigEndian.PutUint64(f64[:], math.Float64bits(-0.25))
	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXFloat64, []uint32{1}, f64[:])))
	require.NoError(t, err)
	assert.Equal(t, []float64{-0.25}, x.Float64s())

	// A zero dimension is an empty array, not an error.
	x, err = ReadIDX(bytes.NewReader(idxBytes(IDXUint8, []uint32{0, 28, 28}, nil)))
	require.NoError(t, err)
	assert.Equal(t, 0, x.Len())
}

func TestReadIDXErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated magic number"},
		{"short magic", []byte{0, 0}, "truncated magic number"},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 0}, "bad magic number"},
		{"unknown type", []byte{0, 0, 0x0A, 1, 0, 0, 0, 0}, "unknown element type 0x0a"},
		{"no dims", []byte{0, 0, 8, 0}, "zero dimensions"},
		{"truncated dims", []byte{0, 0, 8, 2, 0, 0, 0, 1}, "truncated dimensions"},
		{"truncated data", idxBytes(IDXUint8, []uint32{2, 2}, []byte{1, 2, 3}), "truncated data"},
		{"truncated int16", idxBytes(IDXInt16, []uint32{2}, []byte{1, 2, 3}), "need 4 bytes, 3 present"},
		{"trailing data", idxBytes(IDXUint8, []uint32{2}, []byte{1, 2, 3}), "data longer than"},
		// 2^32-1 cubed overflows any int64 byte count.
		{"huge dims", idxBytes(IDXUint8, []uint32{math.MaxUint32, math.MaxUint32, math.MaxUint32}, nil), "too large"},
		// A plausible but unfulfilled claim must fail without allocating it.
		{"claimed gigabytes", idxBytes(IDXFloat64, []uint32{1 << 30}, []byte{1, 2, 3}), "truncated data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestLoadIDXNamesFile(t *testing.T) {
	dir := t.TempDir()
	good := gzipBytes(t, idxBytes(IDXUint8, []uint32{4}, []byte{1, 2, 3, 4}))

	p := filepath.Join(dir, "trunc.gz")
	writeFile(t, p, good[:len(good)-6])
	_, err := LoadIDX(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "truncated gzip")

	p = filepath.Join(dir, "notgz.gz")
	writeFile(t, p, []byte("plain text, not gzip"))
	_, err = LoadIDX(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "not a gzip file")

	// Flip a byte of the CRC-32 trailer (RFC 1952: CRC32 then ISIZE end the member).
	bad := append([]byte(nil), good...)
	bad[len(bad)-8] ^= 0xff
	p = filepath.Join(dir, "crc.gz")
	writeFile(t, p, bad)
	_, err = LoadIDX(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "checksum")

	p = filepath.Join(dir, "short.gz")
	writeFile(t, p, gzipBytes(t, idxBytes(IDXUint8, []uint32{5}, []byte{1, 2})))
	_, err = LoadIDX(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "truncated data")

	p = filepath.Join(dir, "missing.gz")
	_, err = LoadIDX(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
}

// writeMNIST writes a tiny MNIST-shaped split into dir.
func writeMNIST(t *testing.T, dir, prefix string, n, rows, cols int, labels []byte) {
	pixels := make([]byte, n*rows*cols)
	for i := range pixels {
		pixels[i] = byte(i)
	}
	writeFile(t, filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"),
		gzipBytes(t, idxBytes(IDXUint8, []uint32{uint32(n), uint32(rows), uint32(cols)}, pixels)))
	writeFile(t, filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"),
		gzipBytes(t, idxBytes(IDXUint8, []uint32{uint32(len(labels))}, labels)))
}

func TestLoadMNISTFixture(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, "train", 3, 2, 4, []byte{7, 0, 9})
	images, labels, rows, cols, err := LoadMNIST(dir, "train")
	require.NoError(t, err)
	assert.Equal(t, 2, rows)
	assert.Equal(t, 4, cols)
	assert.Equal(t, []byte{7, 0, 9}, labels)
	assert.Len(t, images, 3*2*4)
	assert.Equal(t, byte(9), images[9])

	scaled := ScalePixels([]uint8{0, 51, 255})
	assert.Equal(t, []float32{0, 0.2, 1}, scaled)

	writeMNIST(t, dir, "t10k", 3, 2, 2, []byte{1, 2})
	_, _, _, _, err = LoadMNIST(dir, "test")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3 images")
	assert.Contains(t, err.Error(), "t10k-labels-idx1-ubyte.gz holds 2 labels")

	writeMNIST(t, dir, "t10k", 2, 2, 2, []byte{1, 10})
	_, _, _, _, err = LoadMNIST(dir, "test")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "label 10 of item 1")

	_, _, _, _, err = LoadMNIST(dir, "validation")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "unknown MNIST split"))

	// Labels stored as images: wrong rank.
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), gzipBytes(t, idxBytes(IDXUint8, []uint32{2, 1}, []byte{1, 2})))
	_, _, _, _, err = LoadMNIST(dir, "test")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want uint8 labels")
}
