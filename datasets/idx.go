package datasets

import (
	"encoding/binary"
	"io"
	"math"
	"path/filepath"

	"github.com/pkg/errors"
)

// IDXType is the element type code of an IDX file.
type IDXType byte

// The IDX element types, as LeCun's MNIST page lists them: the third byte of
// the magic number.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// Size returns the size in bytes of one element, or 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// String names the type.
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return "unknown"
}

// maxIDXBytes bounds the data an IDX header may announce (16 GiB), far above any
// real file, so that sizes cannot overflow.
const maxIDXBytes = 1 << 34

// IDX is the content of an IDX file: an array of Dims (outermost first) of one
// element type, stored row-major.
type IDX struct {
	// Type is the element type.
	Type IDXType
	// Dims are the array's dimensions, outermost first.
	Dims []int
	// Data holds the elements as they are in the file: big-endian, row-major.
	Data []byte
}

// Len returns the number of elements.
func (x *IDX) Len() int {
	if s := x.Type.Size(); s > 0 {
		return len(x.Data) / s
	}
	return 0
}

// Float64s returns the elements converted to float64.
func (x *IDX) Float64s() []float64 {
	n := x.Len()
	out := make([]float64, n)
	be := binary.BigEndian
	for i := range out {
		switch x.Type {
		case IDXUint8:
			out[i] = float64(x.Data[i])
		case IDXInt8:
			out[i] = float64(int8(x.Data[i]))
		case IDXInt16:
			out[i] = float64(int16(be.Uint16(x.Data[2*i:])))
		case IDXInt32:
			out[i] = float64(int32(be.Uint32(x.Data[4*i:])))
		case IDXFloat32:
			out[i] = float64(math.Float32frombits(be.Uint32(x.Data[4*i:])))
		case IDXFloat64:
			out[i] = math.Float64frombits(be.Uint64(x.Data[8*i:]))
		}
	}
	return out
}

// ReadIDX reads an IDX file (the format of the MNIST files, described on
// LeCun's MNIST page): a magic number of two zero bytes, the element type code
// and the number of dimensions; each dimension as a big-endian 32-bit integer;
// then the elements. It checks the magic number, the type, the dimensions and
// that exactly the announced number of bytes follows.
func ReadIDX(r io.Reader) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, idxReadErr(err, "truncated magic number")
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, errors.Errorf("bad magic number %02x%02x%02x%02x: the first two bytes must be zero", magic[0], magic[1], magic[2], magic[3])
	}
	t := IDXType(magic[2])
	if t.Size() == 0 {
		return nil, errors.Errorf("unknown element type 0x%02x", magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, errors.New("zero dimensions")
	}
	dimBytes := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, idxReadErr(err, "truncated dimensions")
	}
	x := &IDX{Type: t, Dims: make([]int, nd)}
	total := int64(t.Size())
	for i := range x.Dims {
		x.Dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	for _, d := range x.Dims {
		if d != 0 && total > maxIDXBytes/int64(d) {
			return nil, errors.Errorf("dimensions %v of %s are too large", x.Dims, t)
		}
		total *= int64(d)
	}
	data, err := readUpTo(r, total)
	if err != nil {
		return nil, errors.Wrap(err, "reading the data")
	}
	if int64(len(data)) < total {
		return nil, errors.Errorf("truncated data: dimensions %v of %s need %d bytes, %d present", x.Dims, t, total, len(data))
	}
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n > 0 {
		return nil, errors.Errorf("data longer than dimensions %v of %s announce (%d bytes)", x.Dims, t, total)
	} else if err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, errors.Wrap(err, "reading past the data")
	}
	x.Data = data
	return x, nil
}

func idxReadErr(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New(what)
	}
	return errors.Wrap(err, what)
}

// LoadIDX reads the IDX file at path, gunzipping it when the name ends in ".gz".
// Errors name the file.
func LoadIDX(path string) (*IDX, error) {
	r, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	x, err := ReadIDX(r)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return x, nil
}

// mnistFiles gives the image and label files of a split.
func mnistFiles(split string) (images, labels string, err error) {
	switch split {
	case "train":
		return "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", nil
	case "test", "t10k":
		return "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", nil
	}
	return "", "", errors.Errorf("unknown MNIST split %q (want train or test)", split)
}

// LoadMNIST reads one split ("train" or "test") of MNIST from dir, which holds
// the four gzipped IDX files. images holds n*rows*cols pixels, image after
// image, row-major, 0 (background) to 255; labels holds the n digits. The
// image and label files must agree on n and labels must be 0-9.
func LoadMNIST(dir, split string) (images, labels []uint8, rows, cols int, err error) {
	imgName, lblName, err := mnistFiles(split)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	imgPath, lblPath := filepath.Join(dir, imgName), filepath.Join(dir, lblName)
	img, err := LoadIDX(imgPath)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if img.Type != IDXUint8 || len(img.Dims) != 3 {
		return nil, nil, 0, 0, errors.Errorf("%s: holds %s %v, want uint8 images (3 dimensions)", imgPath, img.Type, img.Dims)
	}
	lbl, err := LoadIDX(lblPath)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if lbl.Type != IDXUint8 || len(lbl.Dims) != 1 {
		return nil, nil, 0, 0, errors.Errorf("%s: holds %s %v, want uint8 labels (1 dimension)", lblPath, lbl.Type, lbl.Dims)
	}
	if img.Dims[0] != lbl.Dims[0] {
		return nil, nil, 0, 0, errors.Errorf("%s holds %d images but %s holds %d labels", imgPath, img.Dims[0], lblPath, lbl.Dims[0])
	}
	for i, l := range lbl.Data {
		if l > 9 {
			return nil, nil, 0, 0, errors.Errorf("%s: label %d of item %d is not a digit", lblPath, l, i)
		}
	}
	return img.Data, lbl.Data, img.Dims[1], img.Dims[2], nil
}

// ScalePixels maps uint8 pixels to float32 in [0, 1] (dividing by 255).
func ScalePixels(pixels []uint8) []float32 {
	out := make([]float32, len(pixels))
	for i, p := range pixels {
		out[i] = float32(p) / 255
	}
	return out
}
