package graph

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hugeHeader declares one float32 tensor "w" of 25e9 values (100 GB).
const hugeHeader = `{"w":{"dtype":"F32","shape":[5000000,5000],"data_offsets":[0,100000000000]}}`

// sparseFile writes b and extends it with a hole to size bytes (on file systems
// without sparse files the test is skipped).
func sparseFile(t *testing.T, b []byte, size int64) string {
	t.Helper()
	path := writeTemp(t, "big.safetensors", b)
	if err := os.Truncate(path, size); err != nil {
		t.Skipf("cannot make a %d-byte sparse file: %v", size, err)
	}
	return path
}

func TestLoadHugeDeclaredTensor(t *testing.T) {
	// The header declares 100 GB of data that the file does not hold.
	path := writeTemp(t, "huge.safetensors", stBytes(hugeHeader, le32(1, 2)))
	var err error
	if n := allocated(func() { _, _, err = LoadTensors(path) }); n > 100<<20 {
		t.Errorf("LoadTensors allocated %d bytes", n)
	}
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %v, want one naming the file and saying it is truncated", err)
	}
	if _, _, err := ReadHeader(path); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("ReadHeader: error %v", err)
	}
}

func TestLoadSparseFile(t *testing.T) {
	// A valid small file extended to 100 GB: the extra bytes are not read.
	small := stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, le32(1, 2))
	path := sparseFile(t, small, 100_000_000_000)
	var err error
	if n := allocated(func() { _, _, err = LoadTensors(path) }); n > 100<<20 {
		t.Errorf("LoadTensors allocated %d bytes", n)
	}
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "trailing bytes") {
		t.Errorf("error %v, want one naming the file and reporting trailing bytes", err)
	}

	// A 100 GB file whose header matches its size: its header reads without the
	// data, and loading it into a store of other shapes fails before the data is read.
	path = sparseFile(t, stBytes(hugeHeader, nil), int64(8+len(hugeHeader))+100_000_000_000)
	var infos map[string]TensorInfo
	if n := allocated(func() { infos, _, err = ReadHeader(path) }); n > 100<<20 {
		t.Errorf("ReadHeader allocated %d bytes", n)
	}
	if err != nil {
		t.Fatal(err)
	}
	w := infos["w"]
	if w.Dtype != tensor.Float32 || len(w.Shape) != 2 || w.Shape[0] != 5000000 || w.Shape[1] != 5000 ||
		w.Offset != int64(8+len(hugeHeader)) || w.Size != 100_000_000_000 {
		t.Errorf("header info %+v", w)
	}
	s := NewStore(tensor.Float32, rand.New(rand.NewPCG(1, 1)))
	if _, err := s.New("w", []int{3, 4}, nil); err != nil {
		t.Fatal(err)
	}
	if n := allocated(func() { err = LoadStore(path, s) }); n > 100<<20 {
		t.Errorf("LoadStore allocated %d bytes", n)
	}
	if err == nil || !strings.Contains(err.Error(), `parameter "w" has shape [3 4] in the store but [5000000 5000] in the file`) {
		t.Errorf("LoadStore: error %v", err)
	}
}

func TestReadHeaderMatchesLoadTensors(t *testing.T) {
	full := validFile(t)
	path := writeTemp(t, "ok.safetensors", full)
	infos, meta, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, meta2, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(ts) || len(meta) != len(meta2) {
		t.Fatalf("ReadHeader found %d tensors and %d metadata entries, LoadTensors %d and %d", len(infos), len(meta), len(ts), len(meta2))
	}
	for name, tt := range ts {
		info := infos[name]
		if info.Dtype != tt.Dtype() || !tensor.Shape(info.Shape).Eq(tt.Shape()) && !(len(info.Shape) == 0 && tt.IsScalar()) {
			t.Errorf("tensor %q: header %+v, tensor %v %v", name, info, tt.Dtype(), tt.Shape())
		}
	}
	// Every cut of the file is an error from ReadHeader too, or from LoadTensors
	// where only the data is cut.
	for cut := 0; cut < len(full); cut++ {
		p := filepath.Join(t.TempDir(), "cut.safetensors")
		if err := os.WriteFile(p, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadTensors(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("cut %d: error %v", cut, err)
		}
	}
}

// A tensor larger than one read chunk loads unchanged.
func TestLoadTensorsChunked(t *testing.T) {
	n := readChunk/4 + 3
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i) * 0.5
	}
	path := filepath.Join(t.TempDir(), "big.safetensors")
	mustSave(t, path, map[string]*tensor.Dense{"v": tensor.New(tensor.WithShape(n), tensor.WithBacking(vals))}, nil)
	ts, _, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	got := ts["v"].Data().([]float32)
	for i := range vals {
		if got[i] != vals[i] {
			t.Fatalf("value %d is %v, want %v", i, got[i], vals[i])
		}
	}
}

func TestExpectCheckpoint(t *testing.T) {
	src := newTestStore(t, tensor.Float32, 1)
	path := filepath.Join(t.TempDir(), "store.safetensors")
	if err := SaveStore(path, src, nil); err != nil {
		t.Fatal(err)
	}
	s := NewStore(tensor.Float32, rand.New(rand.NewPCG(2, 1)))
	if err := s.ExpectCheckpoint(path, ""); err != nil {
		t.Fatal(err)
	}
	enc := s.Sub("enc")
	if _, err := enc.New("w", []int{3, 4}, nil); err != nil {
		t.Fatalf("matching parameter: %v", err)
	}
	_, err := enc.New("b", []int{100000, 100000}, nil)
	if err == nil || !strings.Contains(err.Error(), `"enc.b" has shape [100000 100000] here but [4] in checkpoint `+path) {
		t.Fatalf("shape mismatch: error %v", err)
	}
	if _, err := s.New("extra", []int{2}, nil); err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Fatalf("parameter not in the file: error %v", err)
	}
	if _, err := enc.New("b", []int{4}, nil); err != nil {
		t.Fatal(err)
	}
	if err := LoadStore(path, s); err != nil {
		t.Fatal(err)
	}
	// A missing file is an error.
	if err := s.ExpectCheckpoint(filepath.Join(t.TempDir(), "absent"), "param/"); err == nil {
		t.Fatal("a missing file gave no error")
	}
}
