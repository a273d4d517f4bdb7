package graph

// Checkpoints are safetensors files (https://huggingface.co/docs/safetensors), the
// format PyTorch users exchange weights in: an 8-byte little-endian header length,
// a JSON header mapping each tensor name to its dtype, shape and data_offsets (plus
// an optional "__metadata__" map of strings), then the raw little-endian, row-major
// tensor bytes, packed without holes.
//
// The format is written, and its JSON header parsed, by
// github.com/nlpodyssey/safetensors. Reading follows the reference implementation
// (huggingface/safetensors, safetensors/src/tensor.rs): it rejects headers over
// 100 MB, header lengths past the end of the file, malformed JSON and tensor
// entries, unknown dtypes, offsets that overlap, leave holes or run past the data,
// shape and size disagreements (with overflow checks) and trailing bytes, all
// before any tensor is allocated, then reads the tensors one at a time. Writing orders
// tensors by dtype alignment then name and pads the header with spaces to 8 bytes,
// as Python's safetensors does (its JSON lists the tensors in data order, this one
// in name order, so the files are byte-identical when all tensors share a dtype;
// readers of either accept both). This file adds what the
// library leaves to its callers: a UTF-8 check of the header, messages that name
// the file and say what is wrong, conversion to and from gorgonia tensors
// (explicitly little-endian, so bit patterns such as NaN payloads and -0 survive
// on any host), and atomic replacement of the file (internal/atomicfile).

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
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

// stDtypes pairs each supported tensor dtype with its safetensors dtype.
var stDtypes = []struct {
	dt tensor.Dtype
	st safetensors.DType
}{{tensor.Float32, safetensors.F32}, {tensor.Float64, safetensors.F64}, {tensor.Int32, safetensors.I32}, {tensor.Int64, safetensors.I64}}

// stDtype returns the safetensors dtype of a supported tensor dtype.
func stDtype(dt tensor.Dtype) (safetensors.DType, bool) {
	for _, d := range stDtypes {
		if d.dt == dt {
			return d.st, true
		}
	}
	return 0, false
}

// tensorDtype is the inverse of stDtype.
func tensorDtype(st safetensors.DType) (tensor.Dtype, bool) {
	for _, d := range stDtypes {
		if d.st == st {
			return d.dt, true
		}
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

// decodeLE decodes the little-endian values of src into dst (a slice of a
// supported dtype) from element at on.
func decodeLE(dst any, at int, src []byte) {
	switch d := dst.(type) {
	case []float32:
		for i := range len(src) / 4 {
			d[at+i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case []float64:
		for i := range len(src) / 8 {
			d[at+i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
	case []int32:
		for i := range len(src) / 4 {
			d[at+i] = int32(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case []int64:
		for i := range len(src) / 8 {
			d[at+i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
		}
	default:
		panic(fmt.Sprintf("graph: decodeLE into unsupported %T", dst))
	}
}

// backing returns a new slice of n values of dtype dt, one of the dtypes a
// checkpoint holds.
func backing(dt tensor.Dtype, n int) any {
	switch dt {
	case tensor.Float32:
		return make([]float32, n)
	case tensor.Float64:
		return make([]float64, n)
	case tensor.Int32:
		return make([]int32, n)
	case tensor.Int64:
		return make([]int64, n)
	}
	panic(fmt.Sprintf("graph: no checkpoint backing for %v", dt))
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

// TensorInfo describes one tensor of a checkpoint as its header declares it.
type TensorInfo struct {
	// Dtype is tensor.Float32, Float64, Int32 or Int64.
	Dtype tensor.Dtype
	// Shape is the tensor's shape, empty for a scalar; no dimension is zero.
	Shape []int
	// Offset is where the tensor's bytes start, counted from the start of the file.
	Offset int64
	// Size is the tensor's byte count.
	Size int64
}

// headerEntry is one validated tensor of a checkpoint's header.
type headerEntry struct {
	name string
	TensorInfo
}

// ReadHeader reads and validates the header of the safetensors file at path,
// without reading any tensor data: each tensor's dtype, shape and place in the
// file (checked against the file's size, as LoadTensors checks them) and the
// "__metadata__" map (empty, not nil, when the file has none). Callers use it to
// check shapes before allocating anything for them.
func ReadHeader(path string) (map[string]TensorInfo, map[string]string, error) {
	f, entries, meta, err := openCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := make(map[string]TensorInfo, len(entries))
	for _, e := range entries {
		out[e.name] = e.TensorInfo
	}
	return out, meta, nil
}

// openCheckpoint opens the file at path for reading and reads its header (see
// readHeader); the caller closes the file.
func openCheckpoint(path string) (*os.File, []headerEntry, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "graph: loading checkpoint")
	}
	var entries []headerEntry
	var meta map[string]string
	st, err := f.Stat()
	switch {
	case err != nil:
		err = errors.Wrap(err, "graph: loading checkpoint")
	case !st.Mode().IsRegular():
		err = errors.Errorf("graph: loading checkpoint %s: not a regular file", path)
	default:
		entries, meta, err = readHeader(path, f, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, entries, meta, nil
}

// LoadTensors reads the safetensors file at path and returns its tensors (new
// tensors, float32, float64, int32 or int64; a tensor of shape [] in the file is a
// scalar tensor) and its "__metadata__" map (empty, not nil, when the file has
// none). A file that is not a valid safetensors file, has tensors of other dtypes
// or has tensors with a zero dimension (which gorgonia's tensors cannot hold) gives
// an error naming the file and the problem. The header is checked against the
// file's size before anything is allocated for the tensors, and the tensors are
// then read one at a time, so memory holds the tensors plus a small buffer.
func LoadTensors(path string) (map[string]*tensor.Dense, map[string]string, error) {
	f, entries, meta, err := openCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := make(map[string]*tensor.Dense, len(entries))
	for _, e := range entries {
		t, err := readTensor(f, e.TensorInfo)
		if err != nil {
			return nil, nil, errors.Errorf("graph: checkpoint %s: reading tensor %q: %v", path, e.name, err)
		}
		out[e.name] = t
	}
	return out, meta, nil
}

// readChunk is the most bytes readTensor reads at once.
const readChunk = 1 << 20

// readTensor reads the tensor described by info from r, decoding it a chunk at a
// time into a new tensor.
func readTensor(r io.ReaderAt, info TensorInfo) (*tensor.Dense, error) {
	es := int64(info.Dtype.Size())
	back := backing(info.Dtype, int(info.Size/es))
	buf := make([]byte, min(info.Size, readChunk))
	for done := int64(0); done < info.Size; {
		k := min(info.Size-done, int64(len(buf)))
		if _, err := r.ReadAt(buf[:k], info.Offset+done); err != nil {
			return nil, err
		}
		decodeLE(back, int(done/es), buf[:k])
		done += k
	}
	return newDense(info.Shape, back), nil
}

// newDense returns the tensor of the given shape (empty for a scalar) backed by
// back, a slice of a supported dtype holding exactly its values.
func newDense(shape []int, back any) *tensor.Dense {
	if len(shape) == 0 {
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
		return tensor.New(tensor.FromScalar(v))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(back))
}

// denseTensors converts validated file tensors into new dense tensors.
func denseTensors(fts []fileTensor) map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense, len(fts))
	for _, ft := range fts {
		size := 1
		for _, d := range ft.shape {
			size *= d
		}
		back := backing(ft.dtype, size)
		decodeLE(back, 0, ft.data)
		out[ft.name] = newDense(ft.shape, back)
	}
	return out
}

// parseCheckpoint validates the safetensors bytes buf of the file path and returns
// its tensors, ordered by name, and metadata. It never panics, whatever buf holds.
func parseCheckpoint(path string, buf []byte) ([]fileTensor, map[string]string, error) {
	entries, meta, err := readHeader(path, bytes.NewReader(buf), int64(len(buf)))
	if err != nil {
		return nil, nil, err
	}
	fts := make([]fileTensor, len(entries))
	for i, e := range entries {
		fts[i] = fileTensor{name: e.name, dtype: e.Dtype, shape: e.Shape, data: buf[e.Offset : e.Offset+e.Size]}
	}
	return fts, meta, nil
}

// readHeader reads and validates the header of the safetensors file path, size
// bytes long, from r, and returns its tensors, ordered by name, and metadata. The
// header length is checked against the file size and maxHeaderLen before the
// header is read, and every tensor's dtype, shape and offsets against the file
// size, so that nothing larger than the file is ever allocated. It never panics.
func readHeader(path string, r io.ReaderAt, size int64) ([]headerEntry, map[string]string, error) {
	fail := func(format string, args ...any) error {
		return errors.Errorf("graph: checkpoint %s: "+format, append([]any{path}, args...)...)
	}
	if size < 8 {
		return nil, nil, fail("file is %d bytes long, too short for the 8-byte header length (truncated or not a safetensors file)", size)
	}
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, nil, fail("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > uint64(size-8) {
		return nil, nil, fail("header length %d runs past the end of the %d-byte file (truncated or not a safetensors file)", n, size)
	}
	if n > maxHeaderLen {
		return nil, nil, fail("header length %d exceeds the %d-byte limit", n, maxHeaderLen)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, nil, fail("reading the header: %v", err)
	}
	if !utf8.Valid(header) {
		return nil, nil, fail("header is not valid UTF-8")
	}
	var md safetensors.Metadata
	if err := json.Unmarshal(header, &md); err != nil {
		return nil, nil, fail("invalid JSON header: %v", err)
	}
	dataStart := 8 + int64(n)
	dataLen := uint64(size - dataStart)
	type named struct {
		name string
		info *safetensors.TensorInfo
	}
	infos := make([]named, 0, len(md.Tensors()))
	for name, info := range md.Tensors() {
		infos = append(infos, named{name, info})
	}
	// Report truncation in terms of the tensor that is cut, before the other
	// offset checks.
	var end uint64
	var last string
	for _, x := range infos {
		if e := x.info.DataOffsets[1]; e > end || (e == end && x.name < last) {
			end, last = e, x.name
		}
	}
	if end > dataLen {
		return nil, nil, fail("tensor %q ends at byte %d of the data section, but the file holds only %d bytes of data (truncated?)", last, end, dataLen)
	}
	// In data order, the tensors must tile the data section exactly.
	sort.Slice(infos, func(i, j int) bool {
		a, b := infos[i].info.DataOffsets, infos[j].info.DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return infos[i].name < infos[j].name
	})
	entries := make([]headerEntry, 0, len(infos))
	var pos uint64
	for _, x := range infos {
		s, e := x.info.DataOffsets[0], x.info.DataOffsets[1]
		if s != pos || e < s {
			return nil, nil, fail("invalid data offsets [%d, %d] for tensor %q: the tensor before it ends at byte %d", s, e, x.name, pos)
		}
		pos = e
		count := uint64(1)
		zero := false
		for _, d := range x.info.Shape {
			if d == 0 {
				zero = true
			}
		}
		if zero {
			return nil, nil, fail("tensor %q has shape %v with a zero dimension, which gorgonia tensors cannot hold", x.name, x.info.Shape)
		}
		for _, d := range x.info.Shape {
			if count > math.MaxUint64/d {
				return nil, nil, fail("tensor %q: element count of shape %v overflows", x.name, x.info.Shape)
			}
			count *= d
		}
		es := x.info.DType.Size()
		if es == 0 || count > math.MaxUint64/es {
			return nil, nil, fail("tensor %q: byte count of shape %v of %v overflows", x.name, x.info.Shape, x.info.DType)
		}
		if count*es != e-s {
			return nil, nil, fail("tensor %q: size mismatch: shape %v of %v is %d bytes, but its data offsets [%d, %d] span %d", x.name, x.info.Shape, x.info.DType, count*es, s, e, e-s)
		}
		dt, ok := tensorDtype(x.info.DType)
		if !ok {
			return nil, nil, fail("tensor %q has dtype %v; checkpoints hold F32, F64, I32 and I64", x.name, x.info.DType)
		}
		// Every dimension is at most the tensor's byte count, which is at most the
		// file size, so it fits an int.
		shape := make([]int, len(x.info.Shape))
		for i, d := range x.info.Shape {
			shape[i] = int(d)
		}
		entries = append(entries, headerEntry{name: x.name, TensorInfo: TensorInfo{
			Dtype: dt, Shape: shape, Offset: dataStart + int64(s), Size: int64(e - s),
		}})
	}
	if pos != dataLen {
		return nil, nil, fail("the header's tensors end at byte %d of %d data bytes (trailing bytes or not a safetensors file)", pos, dataLen)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	meta := make(map[string]string, len(md.Metadata()))
	for k, v := range md.Metadata() {
		meta[k] = v
	}
	return entries, meta, nil
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

// expectation is the parameter shapes a store's new parameters must have.
type expectation struct {
	path   string
	shapes map[string][]int
}

// check reports a parameter that the expected checkpoint lacks or holds with
// another shape. A nil expectation accepts everything.
func (e *expectation) check(name string, shape []int) error {
	if e == nil {
		return nil
	}
	want, ok := e.shapes[name]
	if !ok {
		return errors.Errorf("graph: parameter %q (shape %v) is not in checkpoint %s", name, shape, e.path)
	}
	if !tensor.Shape(want).Eq(tensor.Shape(shape)) {
		return errors.Errorf("graph: parameter %q has shape %v here but %v in checkpoint %s", name, shape, want, e.path)
	}
	return nil
}

// ExpectCheckpoint makes every later New on s (and on the views sharing its
// parameters) check the new parameter against the header of the safetensors file
// at path before allocating it: a parameter whose name (with prefix prepended)
// is not in the file, or whose shape differs from the file's, is an error naming
// it and the file. A model built from a configuration that disagrees with its
// checkpoint thus fails at its first disagreeing parameter, with nothing larger
// than the checkpoint allocated. Only the header is read. Tensors in the file
// that no parameter claims are left to LoadStore and AssignStore to report.
func (s *Store) ExpectCheckpoint(path, prefix string) error {
	infos, _, err := ReadHeader(path)
	if err != nil {
		return err
	}
	shapes := make(map[string][]int, len(infos))
	for name, info := range infos {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			shapes[rest] = info.Shape
		}
	}
	s.core.expect = &expectation{path: path, shapes: shapes}
	return nil
}

// matchHeader reports the first way, in name order, that the tensors described
// by infos fail to match the parameters of s (AssignStore's and ExpectCheckpoint's
// check), with the count of the other mismatches.
func matchHeader(s *Store, infos map[string]TensorInfo) error {
	ps := s.Params()
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	seen := map[string]bool{}
	var problems []string
	for _, p := range ps {
		seen[p.Name] = true
		info, ok := infos[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("parameter %q is missing from the file", p.Name))
		case !tensor.Shape(info.Shape).Eq(p.Value.Shape()):
			problems = append(problems, fmt.Sprintf("parameter %q has shape %v in the store but %v in the file", p.Name, []int(p.Value.Shape()), info.Shape))
		case info.Dtype != p.Value.Dtype():
			problems = append(problems, fmt.Sprintf("parameter %q is %v in the store but %v in the file", p.Name, p.Value.Dtype(), info.Dtype))
		}
	}
	names := make([]string, 0, len(infos))
	for name := range infos {
		if !seen[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		problems = append(problems, fmt.Sprintf("tensor %q in the file is not a parameter of the store", name))
	}
	if len(problems) == 0 {
		return nil
	}
	msg := problems[0]
	if len(problems) > 1 {
		msg += fmt.Sprintf(" (and %d more mismatches)", len(problems)-1)
	}
	return errors.New(msg)
}

// LoadStore loads the safetensors file at path into the parameters under s. The
// file must hold exactly the parameters of s (by full name), each with the same
// shape and the store's dtype; otherwise the error names the first mismatch in
// name order (a parameter missing from the file, then a shape or dtype that
// differs, then a tensor in the file that is no parameter) and counts the others.
// The header is checked against s before any tensor is read.
// Values are copied into the existing Param.Value tensors, which stay the same
// objects, so graphs compiled with them see the loaded weights. On any error no
// parameter is changed. Gradients are left as they are.
func LoadStore(path string, s *Store) error {
	infos, _, err := ReadHeader(path)
	if err != nil {
		return err
	}
	if err := matchHeader(s, infos); err != nil {
		return errors.Errorf("graph: checkpoint %s does not match the store: %v", path, err)
	}
	tensors, _, err := LoadTensors(path)
	if err != nil {
		return err
	}
	if err := AssignStore(s, tensors); err != nil {
		return errors.Errorf("graph: checkpoint %s does not match the store: %v", path, err)
	}
	return nil
}
