package graph

// Checkpoints are safetensors files (https://huggingface.co/docs/safetensors), the
// format PyTorch users exchange weights in: an 8-byte little-endian header length,
// a JSON header mapping each tensor name to its dtype, shape and data_offsets (plus
// an optional "__metadata__" map of strings), then the raw little-endian, row-major
// tensor bytes, packed without holes.
//
// The format itself is read and written by github.com/nlpodyssey/safetensors. It
// follows the reference implementation (huggingface/safetensors,
// safetensors/src/tensor.rs): on reading it rejects headers over 100 MB, header
// lengths past the end of the file, malformed JSON and tensor entries, unknown
// dtypes, offsets that overlap, leave holes or run past the data, shape and size
// disagreements (with overflow checks) and trailing bytes; on writing it orders
// tensors by dtype alignment then name and pads the header with spaces to 8 bytes,
// as Python's safetensors does (its JSON lists the tensors in data order, this one
// in name order, so the files are byte-identical when all tensors share a dtype;
// readers of either accept both). This file adds what the
// library leaves to its callers: a UTF-8 check of the header, messages that name
// the file and say what is wrong, conversion to and from gorgonia tensors
// (explicitly little-endian, so bit patterns such as NaN payloads and -0 survive
// on any host), and atomic replacement of the file (internal/atomicfile).

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/internal/atomicfile"
)

// maxHeaderLen is the largest JSON header accepted, as in the reference
// implementation (MAX_HEADER_SIZE in huggingface/safetensors, safetensors/src/tensor.rs).
const maxHeaderLen = 100_000_000

// metadataKey is the reserved header key holding the free-form string map.
const metadataKey = "__metadata__"

// fileTensor is one validated tensor of a parsed checkpoint: its raw bytes still
// point into the file's buffer.
type fileTensor struct {
	name  string
	dtype tensor.Dtype
	shape []int // empty for a scalar
	data  []byte
}

// stDtype returns the safetensors dtype of a supported tensor dtype.
func stDtype(dt tensor.Dtype) (safetensors.DType, bool) {
	switch dt {
	case tensor.Float32:
		return safetensors.F32, true
	case tensor.Float64:
		return safetensors.F64, true
	case tensor.Int32:
		return safetensors.I32, true
	case tensor.Int64:
		return safetensors.I64, true
	}
	return 0, false
}

// tensorDtype is the inverse of stDtype.
func tensorDtype(dt safetensors.DType) (tensor.Dtype, bool) {
	switch dt {
	case safetensors.F32:
		return tensor.Float32, true
	case safetensors.F64:
		return tensor.Float64, true
	case safetensors.I32:
		return tensor.Int32, true
	case safetensors.I64:
		return tensor.Int64, true
	}
	return tensor.Dtype{}, false
}

// denseView adapts a contiguous dense tensor to safetensors.View. Its bytes are
// encoded when the writer asks for them, so saving holds at most one tensor's
// encoded copy in memory.
type denseView struct {
	dtype safetensors.DType
	shape []uint64
	size  int // number of elements
	t     *tensor.Dense
}

func (v denseView) DType() safetensors.DType { return v.dtype }
func (v denseView) Shape() []uint64          { return v.shape }
func (v denseView) DataLen() uint64          { return uint64(v.size) * v.dtype.Size() }
func (v denseView) Data() []byte             { return encodeLE(v.t.Data()) }

// encodeLE returns the little-endian bytes of a slice or scalar of a supported
// dtype (checked by newDenseView).
func encodeLE(data any) []byte {
	switch d := data.(type) {
	case []float32:
		b := make([]byte, 4*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	case []float64:
		b := make([]byte, 8*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	case []int32:
		b := make([]byte, 4*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
		return b
	case []int64:
		b := make([]byte, 8*len(d))
		for i, x := range d {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
		}
		return b
	case float32:
		return encodeLE([]float32{d})
	case float64:
		return encodeLE([]float64{d})
	case int32:
		return encodeLE([]int32{d})
	case int64:
		return encodeLE([]int64{d})
	}
	panic(fmt.Sprintf("graph: encodeLE of unsupported %T", data))
}

// decodeLE fills dst (a slice of a supported dtype) from the little-endian bytes
// src, which hold exactly len(dst) elements.
func decodeLE(dst any, src []byte) {
	switch d := dst.(type) {
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case []float64:
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
	case []int32:
		for i := range d {
			d[i] = int32(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case []int64:
		for i := range d {
			d[i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
		}
	default:
		panic(fmt.Sprintf("graph: decodeLE into unsupported %T", dst))
	}
}

// newDenseView checks that t can be saved and returns its view. A strided or
// transposed view is materialised into a contiguous copy first.
func newDenseView(name string, t *tensor.Dense) (denseView, error) {
	if t == nil {
		return denseView{}, errors.Errorf("tensor %q is nil", name)
	}
	dt, ok := stDtype(t.Dtype())
	if !ok {
		return denseView{}, errors.Errorf("tensor %q has dtype %v; checkpoints hold float32, float64, int32 and int64", name, t.Dtype())
	}
	if t.IsView() || t.RequiresIterator() {
		m, ok := t.Materialize().(*tensor.Dense)
		if !ok {
			return denseView{}, errors.Errorf("tensor %q could not be made contiguous", name)
		}
		t = m
	}
	shape := t.Shape()
	size := 1
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		if d <= 0 {
			return denseView{}, errors.Errorf("tensor %q has invalid shape %v", name, shape)
		}
		dims[i] = uint64(d)
		size *= d
	}
	n := 1 // a scalar's Data is a single value
	if v := t.Data(); v != nil {
		switch d := v.(type) {
		case []float32:
			n = len(d)
		case []float64:
			n = len(d)
		case []int32:
			n = len(d)
		case []int64:
			n = len(d)
		}
	}
	if n != size {
		return denseView{}, errors.Errorf("tensor %q has shape %v but holds %d values", name, shape, n)
	}
	return denseView{dtype: dt, shape: dims, size: size, t: t}, nil
}

// SaveTensors writes tensors and the string map meta (stored as the header's
// "__metadata__"; may be nil) to a safetensors file at path, replacing any file
// there atomically: after a crash the path holds either the old file or the
// complete new one. Tensors must be float32, float64, int32 or int64; strided views
// are saved as their contiguous contents. Names and metadata must be valid UTF-8,
// and no tensor may be named "__metadata__". The bytes written depend only on the
// arguments.
func SaveTensors(path string, tensors map[string]*tensor.Dense, meta map[string]string) error {
	views := make(map[string]denseView, len(tensors))
	for name, t := range tensors {
		if name == metadataKey {
			return errors.Errorf("graph: saving checkpoint %s: %q is reserved and cannot name a tensor", path, metadataKey)
		}
		if !utf8.ValidString(name) {
			return errors.Errorf("graph: saving checkpoint %s: tensor name %q is not valid UTF-8", path, name)
		}
		v, err := newDenseView(name, t)
		if err != nil {
			return errors.Wrapf(err, "graph: saving checkpoint %s", path)
		}
		views[name] = v
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return errors.Errorf("graph: saving checkpoint %s: metadata entry %q: %q is not valid UTF-8", path, k, v)
		}
	}
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return safetensors.SerializeToWriter(views, meta, w)
	})
	return errors.Wrapf(err, "graph: saving checkpoint %s", path)
}

// LoadTensors reads the safetensors file at path and returns its tensors (new
// tensors, float32, float64, int32 or int64; a tensor of shape [] in the file is a
// scalar tensor) and its "__metadata__" map (empty, not nil, when the file has
// none). A file that is not a valid safetensors file, has tensors of other dtypes
// or has tensors with a zero dimension (which gorgonia's tensors cannot hold) gives
// an error naming the file and the problem.
func LoadTensors(path string) (map[string]*tensor.Dense, map[string]string, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: loading checkpoint")
	}
	fts, meta, err := parseCheckpoint(path, buf)
	if err != nil {
		return nil, nil, err
	}
	return denseTensors(fts), meta, nil
}

// denseTensors converts validated file tensors into new dense tensors.
func denseTensors(fts []fileTensor) map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense, len(fts))
	for _, ft := range fts {
		size := 1
		for _, d := range ft.shape {
			size *= d
		}
		var back any
		switch ft.dtype {
		case tensor.Float32:
			back = make([]float32, size)
		case tensor.Float64:
			back = make([]float64, size)
		case tensor.Int32:
			back = make([]int32, size)
		case tensor.Int64:
			back = make([]int64, size)
		}
		decodeLE(back, ft.data)
		if len(ft.shape) == 0 {
			// A scalar: gorgonia's scalar tensors are built from the value itself.
			var v any
			switch b := back.(type) {
			case []float32:
				v = b[0]
			case []float64:
				v = b[0]
			case []int32:
				v = b[0]
			case []int64:
				v = b[0]
			}
			out[ft.name] = tensor.New(tensor.FromScalar(v))
			continue
		}
		out[ft.name] = tensor.New(tensor.WithShape(ft.shape...), tensor.WithBacking(back))
	}
	return out
}

// parseCheckpoint validates the safetensors bytes buf of the file path and returns
// its tensors, ordered by name, and metadata. It never panics, whatever buf holds.
func parseCheckpoint(path string, buf []byte) ([]fileTensor, map[string]string, error) {
	fail := func(format string, args ...any) error {
		return errors.Errorf("graph: checkpoint %s: "+format, append([]any{path}, args...)...)
	}
	if len(buf) < 8 {
		return nil, nil, fail("file is %d bytes long, too short for the 8-byte header length (truncated or not a safetensors file)", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > uint64(len(buf)-8) {
		return nil, nil, fail("header length %d runs past the end of the %d-byte file (truncated or not a safetensors file)", n, len(buf))
	}
	if n > maxHeaderLen {
		return nil, nil, fail("header length %d exceeds the %d-byte limit", n, maxHeaderLen)
	}
	header, data := buf[8:8+n], buf[8+n:]
	if !utf8.Valid(header) {
		return nil, nil, fail("header is not valid UTF-8")
	}
	var md safetensors.Metadata
	if err := json.Unmarshal(header, &md); err != nil {
		return nil, nil, fail("invalid JSON header: %v", err)
	}
	// Report truncation in terms of the tensor that is cut, before the library's
	// general offset checks.
	var end uint64
	var last string
	for name, info := range md.Tensors() {
		if e := info.DataOffsets[1]; e > end || (e == end && name < last) {
			end, last = e, name
		}
	}
	if end > uint64(len(data)) {
		return nil, nil, fail("tensor %q ends at byte %d of the data section, but the file holds only %d bytes of data (truncated?)", last, end, len(data))
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		if end < uint64(len(data)) {
			return nil, nil, fail("%v (the header's tensors end at byte %d of %d data bytes)", err, end, len(data))
		}
		return nil, nil, fail("%v", err)
	}

	views := st.Tensors()
	fts := make([]fileTensor, 0, len(views))
	for _, v := range views {
		tv := v.TensorView
		dt, ok := tensorDtype(tv.DType())
		if !ok {
			return nil, nil, fail("tensor %q has dtype %v; checkpoints hold F32, F64, I32 and I64", v.Name, tv.DType())
		}
		// The library has checked that the product of the dimensions times the
		// element size is the tensor's byte count (without overflow), so with no zero
		// dimension every dimension is at most the file size and fits an int.
		shape := make([]int, len(tv.Shape()))
		for i, d := range tv.Shape() {
			if d == 0 {
				return nil, nil, fail("tensor %q has shape %v with a zero dimension, which gorgonia tensors cannot hold", v.Name, tv.Shape())
			}
			shape[i] = int(d)
		}
		fts = append(fts, fileTensor{name: v.Name, dtype: dt, shape: shape, data: tv.Data()})
	}
	sort.Slice(fts, func(i, j int) bool { return fts[i].name < fts[j].name })

	meta := make(map[string]string, len(md.Metadata()))
	for k, v := range md.Metadata() {
		meta[k] = v
	}
	return fts, meta, nil
}

// SaveStore writes every parameter under s (names as in Param.Name, the full
// dotted names) with the metadata meta to a safetensors file at path, atomically
// (see SaveTensors).
func SaveStore(path string, s *Store, meta map[string]string) error {
	ps := s.Params()
	tensors := make(map[string]*tensor.Dense, len(ps))
	for _, p := range ps {
		tensors[p.Name] = p.Value
	}
	return SaveTensors(path, tensors, meta)
}

// LoadStore loads the safetensors file at path into the parameters under s. The
// file must hold exactly the parameters of s (by full name), each with the same
// shape and the store's dtype; otherwise the error names the first mismatch in
// name order (a parameter missing from the file, then a shape or dtype that
// differs, then a tensor in the file that is no parameter) and counts the others.
// Values are copied into the existing Param.Value tensors, which stay the same
// objects, so graphs compiled with them see the loaded weights. On any error no
// parameter is changed. Gradients are left as they are.
func LoadStore(path string, s *Store) error {
	tensors, _, err := LoadTensors(path)
	if err != nil {
		return err
	}
	if err := AssignStore(s, tensors); err != nil {
		return errors.Errorf("graph: checkpoint %s does not match the store: %v", path, err)
	}
	return nil
}
