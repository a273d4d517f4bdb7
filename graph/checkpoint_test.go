package graph

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/internal/atomicfile"
)

// stBytes assembles a safetensors file from a JSON header and a data section,
// following the format: 8-byte little-endian header length, header, data.
func stBytes(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// le32 returns the little-endian bytes of float32 values.
func le32(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustSave(t *testing.T, path string, ts map[string]*tensor.Dense, meta map[string]string) {
	t.Helper()
	if err := SaveTensors(path, ts, meta); err != nil {
		t.Fatal(err)
	}
}

// Bit patterns that a float conversion or a careless copy would change: quiet and
// signalling NaNs with payloads, negative NaN, -0, infinities, the smallest
// subnormal and the largest finite value (IEEE 754-2008 binary32/binary64 layouts).
var (
	bits32 = []uint32{0x7fc00001, 0x7f800001, 0xffc12345, 0x80000000, 0x00000000,
		0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0x3f800000, 0xbf9e0652}
	bits64 = []uint64{0x7ff8000000000001, 0x7ff0000000000001, 0xfff8dead0000beef,
		0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000, 0x0000000000000001,
		0x7fefffffffffffff, 0x3ff0000000000000, 0xc00921fb54442d18}
)

func TestTensorsRoundTripBitwise(t *testing.T) {
	f32 := make([]float32, 12)
	for i := range f32 {
		f32[i] = math.Float32frombits(bits32[i%len(bits32)])
	}
	f64 := make([]float64, 10)
	for i := range f64 {
		f64[i] = math.Float64frombits(bits64[i])
	}
	in := map[string]*tensor.Dense{
		"enc.w":   tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(f32)),
		"enc.b":   tensor.New(tensor.WithShape(2, 5), tensor.WithBacking(f64)),
		"steps":   tensor.New(tensor.WithShape(2), tensor.WithBacking([]int64{math.MinInt64, 1<<40 + 3})),
		"ids":     tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]int32{-7, 0, math.MaxInt32})),
		"scalar":  tensor.New(tensor.FromScalar(math.Float64frombits(bits64[0]))),
		"a<b>&\"": tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{2})),
	}
	meta := map[string]string{"step": "1200", "note": "größe ✓", "empty": ""}
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	mustSave(t, path, in, meta)

	out, gotMeta, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("loaded %d tensors, saved %d", len(out), len(in))
	}
	for name, want := range in {
		got, ok := out[name]
		if !ok {
			t.Fatalf("tensor %q missing after the round trip", name)
		}
		if got.Dtype() != want.Dtype() || !got.Shape().Eq(want.Shape()) {
			t.Fatalf("%q: got %v %v, want %v %v", name, got.Dtype(), got.Shape(), want.Dtype(), want.Shape())
		}
		if gb, wb := encodeLE(got.Data()), encodeLE(want.Data()); !bytes.Equal(gb, wb) {
			t.Fatalf("%q: bytes differ after the round trip:\n got %x\nwant %x", name, gb, wb)
		}
	}
	if got := out["scalar"]; !got.IsScalar() {
		t.Fatalf("scalar came back with shape %v", got.Shape())
	}
	if len(gotMeta) != len(meta) {
		t.Fatalf("metadata %v, want %v", gotMeta, meta)
	}
	for k, v := range meta {
		if gotMeta[k] != v {
			t.Fatalf("metadata %q = %q, want %q", k, gotMeta[k], v)
		}
	}
	// Explicit bit checks, independent of encodeLE.
	g32 := out["enc.w"].Data().([]float32)
	for i, v := range g32 {
		if math.Float32bits(v) != bits32[i%len(bits32)] {
			t.Fatalf("float32 %d: bits %#x, want %#x", i, math.Float32bits(v), bits32[i%len(bits32)])
		}
	}
	g64 := out["enc.b"].Data().([]float64)
	for i, v := range g64 {
		if math.Float64bits(v) != bits64[i] {
			t.Fatalf("float64 %d: bits %#x, want %#x", i, math.Float64bits(v), bits64[i])
		}
	}

	// Saving the same tensors again gives the same bytes.
	first, _ := os.ReadFile(path)
	path2 := filepath.Join(t.TempDir(), "again.safetensors")
	mustSave(t, path2, out, gotMeta)
	second, _ := os.ReadFile(path2)
	if !bytes.Equal(first, second) {
		t.Fatal("saving the loaded tensors gave different bytes")
	}
}

func TestSaveTensorsMaterialisesViews(t *testing.T) {
	m := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if err := m.T(); err != nil {
		t.Fatal(err)
	}
	col, err := m.Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v.safetensors")
	mustSave(t, path, map[string]*tensor.Dense{"col": col.(*tensor.Dense)}, nil)
	out, _, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	// Column 1 of the transpose of [[1 2 3] [4 5 6]] is row 1 of the original.
	got := out["col"].Data().([]float32)
	if len(got) != 3 || got[0] != 4 || got[1] != 5 || got[2] != 6 {
		t.Fatalf("saved view as %v, want [4 5 6]", got)
	}
}

func TestSaveTensorsRejects(t *testing.T) {
	dir := t.TempDir()
	ok := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{1}))
	cases := map[string]struct {
		ts   map[string]*tensor.Dense
		meta map[string]string
		want string
	}{
		"reserved name": {map[string]*tensor.Dense{"__metadata__": ok}, nil, "reserved"},
		"nil tensor":    {map[string]*tensor.Dense{"x": nil}, nil, "nil"},
		"bad dtype":     {map[string]*tensor.Dense{"x": tensor.New(tensor.WithShape(2), tensor.WithBacking([]bool{true, false}))}, nil, "dtype"},
		"bad name":      {map[string]*tensor.Dense{"\xff": ok}, nil, "UTF-8"},
		"bad meta":      {map[string]*tensor.Dense{"x": ok}, map[string]string{"k": "\xfe"}, "UTF-8"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		err := SaveTensors(path, c.ts, c.meta)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s and containing %q", name, err, path, c.want)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: a file was left at %s", name, path)
		}
	}
}

// The reference implementation's serialisation tests
// (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization,
// test_serialization_forced_alignement, test_empty) fix the exact bytes that
// Python's safetensors writes for these inputs; SaveTensors must write the same.
func TestSaveTensorsMatchesReferenceBytes(t *testing.T) {
	vals := []float32{0, 1, 2, 3, 4, 5}
	cases := []struct {
		name  string
		ts    map[string]*tensor.Dense
		meta  map[string]string
		bytes []byte
	}{
		{
			"attn.0 [1 2 3]",
			map[string]*tensor.Dense{"attn.0": tensor.New(tensor.WithShape(1, 2, 3), tensor.WithBacking(append([]float32(nil), vals...)))},
			nil,
			stBytes(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, le32(vals...)),
		},
		{
			"attn0 [1 1 2 3], padded",
			map[string]*tensor.Dense{"attn0": tensor.New(tensor.WithShape(1, 1, 2, 3), tensor.WithBacking(append([]float32(nil), vals...)))},
			nil,
			stBytes(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`+"       ", le32(vals...)),
		},
		{
			"no tensors, metadata",
			map[string]*tensor.Dense{},
			map[string]string{"framework": "pt"},
			stBytes(`{"__metadata__":{"framework":"pt"}}`+"     ", nil),
		},
		{
			"no tensors",
			nil,
			nil,
			stBytes(`{}`+"      ", nil),
		},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "ref.safetensors")
		mustSave(t, path, c.ts, c.meta)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.bytes) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.bytes)
		}
	}
}

// A file laid out as Python's safetensors (torch) writes it for a small model:
// __metadata__ {"format": "pt"} first, tensors ordered by dtype alignment
// (F64 and I64 before F32), header padded with spaces to a multiple of 8. The JSON
// keys here are deliberately not in offset order, as in files from older writers,
// which readers must accept (the reference reader sorts entries by offset).
func TestLoadTensorsPythonLayout(t *testing.T) {
	header := `{"__metadata__":{"format":"pt"},` +
		`"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[24,40]},` +
		`"fc.bias":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},` +
		`"num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[16,24]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	var data []byte
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(0.5))
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(-1.25))
	data = binary.LittleEndian.AppendUint64(data, uint64(1234))
	data = append(data, le32(1, -2, 3.5, 1e-30)...)
	path := writeTemp(t, "torch.safetensors", stBytes(header, data))

	ts, meta, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || len(meta) != 1 {
		t.Fatalf("metadata %v", meta)
	}
	w := ts["fc.weight"]
	if w.Dtype() != tensor.Float32 || !w.Shape().Eq(tensor.Shape{2, 2}) {
		t.Fatalf("fc.weight is %v %v", w.Dtype(), w.Shape())
	}
	if got := w.Data().([]float32); got[0] != 1 || got[1] != -2 || got[2] != 3.5 || got[3] != 1e-30 {
		t.Fatalf("fc.weight = %v", got)
	}
	if got := ts["fc.bias"].Data().([]float64); got[0] != 0.5 || got[1] != -1.25 {
		t.Fatalf("fc.bias = %v", got)
	}
	if n := ts["num_batches_tracked"]; !n.IsScalar() || n.Data().(int64) != 1234 {
		t.Fatalf("num_batches_tracked = %v (shape %v)", n.Data(), n.Shape())
	}
}

// validFile returns the bytes of a small checkpoint with two tensors and metadata.
func validFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "valid.safetensors")
	mustSave(t, path, map[string]*tensor.Dense{
		"a": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})),
		"b": tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{7, 8, 9, 10})),
	}, map[string]string{"step": "3"})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadTensorsTruncated(t *testing.T) {
	full := validFile(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "cut.safetensors")
	for cut := 0; cut < len(full); cut++ {
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadTensors(path)
		if err == nil {
			t.Fatalf("file cut to %d of %d bytes loaded without error", cut, len(full))
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("cut %d: error %q does not name the file", cut, err)
		}
		hlen := 8 + int(binary.LittleEndian.Uint64(full))
		var want string
		switch {
		case cut < 8:
			want = "too short"
		case cut < hlen:
			want = "runs past the end"
		default:
			want = "truncated"
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("cut %d: error %q does not say %q", cut, err, want)
		}
	}
	if _, _, err := LoadTensors(filepath.Join(dir, "absent.safetensors")); err == nil || !strings.Contains(err.Error(), "absent.safetensors") {
		t.Fatalf("missing file: error %v", err)
	}
}

// corruptCase is an invalid file and a part of the error it must give.
type corruptCase struct {
	name string
	file []byte
	want string
}

// corruptCases returns one invalid file for each way a header or layout can be
// wrong.
func corruptCases() []corruptCase {
	f8 := le32(1, 2)
	hdr := func(h string) []byte { return stBytes(h, f8) }
	bigLen := binary.LittleEndian.AppendUint64(nil, 1<<63)
	return []corruptCase{
		{"empty file", nil, "too short"},
		{"header length past end", stBytes(`{}`, nil)[:9], "runs past the end"},
		{"huge header length", append(bigLen, `{}`...), "runs past the end"},
		{"bad JSON", hdr(`{"a":{"dtype":"F32",`), "JSON"},
		{"JSON not an object", hdr(`[1,2]`), "JSON"},
		{"entry not an object", hdr(`{"a":1}`), "JSON"},
		{"missing data_offsets", hdr(`{"a":{"dtype":"F32","shape":[2]}}`), "JSON"},
		{"extra key", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`), "JSON"},
		{"negative dimension", hdr(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`), "JSON"},
		{"fractional offset", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`), "JSON"},
		{"three offsets", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`), "JSON"},
		{"unknown dtype", hdr(`{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}`), "F17"},
		{"unsupported dtype", stBytes(`{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}`, f8), "BF16"},
		{"metadata not strings", hdr(`{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), "__metadata__"},
		{"offsets past data", hdr(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`), "truncated"},
		{"offsets overlap", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, le32(1, 2, 3)), "offset"},
		{"hole between tensors", stBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, le32(1, 2, 3)), "offset"},
		{"end before start", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`), "offset"},
		{"shape disagrees with size", hdr(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), "mismatch"},
		{"shape overflows", hdr(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`), "overflow"},
		{"zero dimension", stBytes(`{"a":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}`, nil), "zero dimension"},
		{"zero and huge dimensions", stBytes(`{"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}}`, nil), "zero dimension"},
		{"trailing bytes", stBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f8), "end at byte 4 of 8 data bytes"},
		{"header not UTF-8", hdr("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), "UTF-8"},
	}
}

func TestLoadTensorsCorrupt(t *testing.T) {
	for _, c := range corruptCases() {
		path := writeTemp(t, "bad.safetensors", c.file)
		_, _, err := LoadTensors(path)
		if err == nil {
			t.Errorf("%s: loaded without error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want one naming the file and containing %q", c.name, err, c.want)
		}
	}
}

// newTestStore returns a float32 or float64 store with parameters "enc.w" (3, 4)
// and "enc.b" (4) whose values are drawn from seed.
func newTestStore(t *testing.T, dtype tensor.Dtype, seed uint64, bShape ...int) *Store {
	t.Helper()
	if bShape == nil {
		bShape = []int{4}
	}
	s := NewStore(dtype, rand.New(rand.NewPCG(seed, 1)))
	if _, err := s.New("enc.w", []int{3, 4}, Uniform(-1, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.New("enc.b", bShape, Uniform(-1, 1)); err != nil {
		t.Fatal(err)
	}
	return s
}

// storeBytes returns the encoded values of every parameter of s, in name order.
func storeBytes(s *Store) []byte {
	var b []byte
	for _, name := range s.Names() {
		p, _ := s.Get(name)
		b = append(b, encodeLE(p.Value.Data())...)
	}
	return b
}

func TestStoreRoundTripKeepsTensors(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		src := newTestStore(t, dt, 1)
		path := filepath.Join(t.TempDir(), "store.safetensors")
		if err := SaveStore(path, src, map[string]string{"epoch": "2"}); err != nil {
			t.Fatal(err)
		}
		dst := newTestStore(t, dt, 2)
		if bytes.Equal(storeBytes(src), storeBytes(dst)) {
			t.Fatal("test stores should start different")
		}
		type ident struct {
			value *tensor.Dense
			first any
		}
		before := map[string]ident{}
		for _, p := range dst.Params() {
			before[p.Name] = ident{p.Value, p.Value.Uintptr()}
		}
		if err := LoadStore(path, dst); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(storeBytes(src), storeBytes(dst)) {
			t.Fatalf("%v: loaded values differ from saved ones", dt)
		}
		for _, p := range dst.Params() {
			if b := before[p.Name]; p.Value != b.value || p.Value.Uintptr() != b.first {
				t.Fatalf("%v: %q was replaced instead of loaded in place", dt, p.Name)
			}
		}
		_, meta, err := LoadTensors(path)
		if err != nil || meta["epoch"] != "2" {
			t.Fatalf("metadata %v, error %v", meta, err)
		}
	}
}

func TestLoadStoreMismatches(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, s *Store) string {
		path := filepath.Join(dir, name)
		if err := SaveStore(path, s, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	extra := newTestStore(t, tensor.Float32, 3)
	if _, err := extra.New("enc.z", []int{2}, nil); err != nil {
		t.Fatal(err)
	}
	missing := NewStore(tensor.Float32, rand.New(rand.NewPCG(3, 1)))
	if _, err := missing.New("enc.w", []int{3, 4}, Ones()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		file string
		want string
	}{
		{"wrong shape", save("shape", newTestStore(t, tensor.Float32, 3, 2, 2)), `parameter "enc.b" has shape [4] in the store but [2 2] in the file`},
		{"missing name", save("missing", missing), `parameter "enc.b" is missing from the file`},
		{"extra name", save("extra", extra), `tensor "enc.z" in the file is not a parameter of the store`},
		{"wrong dtype", save("dtype", newTestStore(t, tensor.Float64, 3)), `parameter "enc.b" is float32 in the store but float64 in the file (and 1 more mismatches)`},
	}
	for _, c := range cases {
		s := newTestStore(t, tensor.Float32, 4)
		before := storeBytes(s)
		err := LoadStore(c.file, s)
		if err == nil {
			t.Errorf("%s: loaded without error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %q, want one naming the file and containing %q", c.name, err, c.want)
		}
		// "enc.w" matches in every file but must not have been loaded.
		if !bytes.Equal(before, storeBytes(s)) {
			t.Errorf("%s: the store changed although loading failed", c.name)
		}
	}
}

const crashEnv = "TRIAD_CHECKPOINT_CRASH_DIR"

// crashTensors returns a 16 MiB checkpoint whose every value and whose metadata
// record gen, so a torn file cannot pass for a whole one.
func crashTensors(gen int) (map[string]*tensor.Dense, map[string]string) {
	w := make([]float32, 4<<20)
	for i := range w {
		w[i] = float32(gen)
	}
	return map[string]*tensor.Dense{
		"w":   tensor.New(tensor.WithShape(1024, 4096), tensor.WithBacking(w)),
		"gen": tensor.New(tensor.WithShape(1), tensor.WithBacking([]int64{int64(gen)})),
	}, map[string]string{"gen": strconv.Itoa(gen)}
}

// savedPrefix starts the line the crash child prints after each completed save.
const savedPrefix = "checkpoint saved, generation "

// TestCheckpointCrashChild is the process that TestSaveTensorsSurvivesKill kills:
// when started with crashEnv set, it resumes from the checkpoint in that directory
// and saves checkpoints of growing generation to the same path, printing a line
// after each, until it is killed (or 60 s pass). Otherwise it does nothing.
func TestCheckpointCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return
	}
	path := filepath.Join(dir, "ckpt.safetensors")
	_, meta, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := strconv.Atoi(meta["gen"])
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for gen++; time.Now().Before(deadline); gen++ {
		ts, meta := crashTensors(gen)
		if err := SaveTensors(path, ts, meta); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%d\n", savedPrefix, gen)
	}
}

// TestSaveTensorsSurvivesKill kills (SIGKILL on Unix) a process in the middle of
// saving a checkpoint, several times, and checks each time that the path holds a
// complete checkpoint: the last one the process reported saved, or the one it was
// writing if the rename had just happened.
func TestSaveTensorsSurvivesKill(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("running as the crash child")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	ts, meta := crashTensors(0)
	mustSave(t, path, ts, meta)
	rounds := 3
	if testing.Short() {
		rounds = 2
	}
	rng := rand.New(rand.NewPCG(7, 7))
	interrupted, onDisk := 0, 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		saved := make(chan int, 1000)
		go func() {
			defer close(saved)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if g, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), savedPrefix)); err == nil {
					saved <- g
				}
			}
		}()
		// Round r lets the child complete r saves, waits for the next one to start,
		// lets it write for a random few milliseconds and kills it.
		reported := onDisk
		timeout := time.After(60 * time.Second)
		for reported < onDisk+round {
			select {
			case g, ok := <-saved:
				if !ok {
					cmd.Wait()
					t.Fatalf("round %d: the child exited early", round)
				}
				reported = g
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("round %d: the child saved nothing for 60 s", round)
			}
		}
		for deadline := time.Now().Add(30 * time.Second); !writing(t, path) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Duration(rng.IntN(10_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for g := range saved {
			reported = g
		}
		cmd.Wait()
		if writing(t, path) {
			interrupted++
		}
		removeTemps(t, path)

		got, gotMeta, err := LoadTensors(path)
		if err != nil {
			t.Fatalf("round %d: checkpoint unreadable after the kill: %v", round, err)
		}
		gen, err := strconv.Atoi(gotMeta["gen"])
		if err != nil {
			t.Fatalf("round %d: metadata %v", round, gotMeta)
		}
		if gen != reported && gen != reported+1 {
			t.Fatalf("round %d: generation %d on disk, but the child last reported saving %d", round, gen, reported)
		}
		if g := got["gen"].Data().([]int64); g[0] != int64(gen) {
			t.Fatalf("round %d: tensor gen %d but metadata gen %d", round, g[0], gen)
		}
		for i, v := range got["w"].Data().([]float32) {
			if v != float32(gen) {
				t.Fatalf("round %d: w[%d] = %v in a generation %d checkpoint", round, i, v, gen)
			}
		}
		onDisk = gen
	}
	if interrupted == 0 {
		t.Fatalf("no kill in %d rounds happened during a write; the test proved nothing", rounds)
	}
	t.Logf("%d of %d kills interrupted a write; generation %d on disk at the end", interrupted, rounds, onDisk)
}

// writing reports whether a temporary file of path exists, that is, whether a
// save of path is under way (or was cut short).
func writing(t *testing.T, path string) bool {
	return len(temps(t, path)) > 0
}

// temps returns the temporary files of path in its directory.
func temps(t *testing.T, path string) []string {
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), atomicfile.TempPrefix(path)) {
			out = append(out, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	return out
}

// removeTemps removes the temporary files a killed writer left behind.
func removeTemps(t *testing.T, path string) {
	for _, name := range temps(t, path) {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzLoadTensors feeds arbitrary bytes to the checkpoint parser. It must never
// panic, and whatever it accepts must save and load back unchanged.
func FuzzLoadTensors(f *testing.F) {
	dir := f.TempDir()
	seedPath := filepath.Join(dir, "seed.safetensors")
	if err := SaveTensors(seedPath, map[string]*tensor.Dense{
		"a": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})),
		"b": tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{7, 8})),
		"c": tensor.New(tensor.WithShape(1), tensor.WithBacking([]int64{9})),
	}, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add(stBytes(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, le32(1)))
	f.Add(stBytes(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, le32(1)))
	f.Add(stBytes(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil))
	f.Add(stBytes(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add([]byte{})
	for _, c := range corruptCases() {
		f.Add(c.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fts, meta, err := parseCheckpoint("fuzz.safetensors", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.safetensors") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		ts := denseTensors(fts)
		path := filepath.Join(t.TempDir(), "again.safetensors")
		if err := SaveTensors(path, ts, meta); err != nil {
			t.Fatalf("accepted file does not save back: %v", err)
		}
		back, meta2, err := LoadTensors(path)
		if err != nil {
			t.Fatalf("saved file does not load: %v", err)
		}
		if len(back) != len(ts) || len(meta2) != len(meta) {
			t.Fatalf("round trip changed the counts")
		}
		for name, want := range ts {
			got := back[name]
			if got == nil || got.Dtype() != want.Dtype() || !got.Shape().Eq(want.Shape()) ||
				!bytes.Equal(encodeLE(got.Data()), encodeLE(want.Data())) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}
