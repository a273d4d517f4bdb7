package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/atomicfile"
)

// WriteMNIST writes one split ("train" or "test") of an MNIST-format dataset to
// dir, as the two gzipped IDX files LoadMNIST reads: n images of rows x cols
// pixels (image after image, row-major) and their n labels 0-9. It makes small
// stand-ins of MNIST for tests and examples, and exports digit sets of one's own.
func WriteMNIST(dir, split string, images, labels []uint8, rows, cols int) error {
	imgName, lblName, err := mnistFiles(split)
	if err != nil {
		return err
	}
	n := len(labels)
	if rows <= 0 || cols <= 0 || len(images) != n*rows*cols {
		return errors.Errorf("mnist: %d pixels are not %d images of %dx%d", len(images), n, rows, cols)
	}
	for i, l := range labels {
		if l > 9 {
			return errors.Errorf("mnist: label %d of item %d is not a digit", l, i)
		}
	}
	for _, f := range []struct {
		name string
		dims []uint32
		data []byte
	}{
		{imgName, []uint32{uint32(n), uint32(rows), uint32(cols)}, images},
		{lblName, []uint32{uint32(n)}, labels},
	} {
		var raw bytes.Buffer
		raw.Write([]byte{0, 0, byte(IDXUint8), byte(len(f.dims))})
		for _, d := range f.dims {
			binary.Write(&raw, binary.BigEndian, d)
		}
		raw.Write(f.data)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(raw.Bytes())
		if err := w.Close(); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), gz.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
