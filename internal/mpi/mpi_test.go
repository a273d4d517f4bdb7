//go:build mpi

package mpi

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain initialises MPI once for every test and finalises it at the end, as a
// program would. Run the binary under mpirun for more than one process.
func TestMain(m *testing.M) {
	if err := Init(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func rankSize(t *testing.T) (int, int) {
	t.Helper()
	r, err := Rank()
	if err != nil {
		t.Fatal(err)
	}
	n, err := Size()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || r < 0 || r >= n {
		t.Fatalf("rank %d of size %d", r, n)
	}
	return r, n
}

func TestInitTwice(t *testing.T) {
	if !Initialized() {
		t.Fatal("Initialized is false after Init")
	}
	if err := Init(); err == nil {
		t.Fatal("a second Init succeeded")
	}
}

func TestLocalSize(t *testing.T) {
	_, n := rankSize(t)
	l, err := LocalSize()
	if err != nil {
		t.Fatal(err)
	}
	if l < 1 || l > n {
		t.Fatalf("local size %d outside [1, %d]", l, n)
	}
}

// The sums below are of small integers and halves, exact in float32, so every
// element has one right answer whatever the order of the additions.
func TestAllreduceSum(t *testing.T) {
	r, n := rankSize(t)
	const m = 1000
	f32 := make([]float32, m)
	f64 := make([]float64, m)
	i64 := make([]int64, m)
	for i := range m {
		f32[i] = float32(r+1) + 0.5*float32(i)
		f64[i] = float64(r+1) - 0.25*float64(i)
		i64[i] = int64(r+1) << 40
	}
	if err := AllreduceSumFloat32(f32); err != nil {
		t.Fatal(err)
	}
	if err := AllreduceSumFloat64(f64); err != nil {
		t.Fatal(err)
	}
	if err := AllreduceSum(i64); err != nil {
		t.Fatal(err)
	}
	tri := n * (n + 1) / 2 // 1 + 2 + ... + n
	for i := range m {
		if want := float32(tri) + 0.5*float32(n*i); f32[i] != want {
			t.Fatalf("float32[%d] = %v, want %v", i, f32[i], want)
		}
		if want := float64(tri) - 0.25*float64(n*i); f64[i] != want {
			t.Fatalf("float64[%d] = %v, want %v", i, f64[i], want)
		}
		if want := int64(tri) << 40; i64[i] != want {
			t.Fatalf("int64[%d] = %v, want %v", i, i64[i], want)
		}
	}
}

// TestSplitCalls reduces and broadcasts in pieces of 3 elements, as buffers
// longer than 2^30 are.
func TestSplitCalls(t *testing.T) {
	r, n := rankSize(t)
	saved := maxCount
	maxCount = 3
	defer func() { maxCount = saved }()
	buf := []float64{1, 2, 3, 4, 5, 6, 7}
	for i := range buf {
		buf[i] *= float64(r + 1)
	}
	if err := AllreduceSum(buf); err != nil {
		t.Fatal(err)
	}
	tri := float64(n * (n + 1) / 2)
	for i, v := range buf {
		if v != float64(i+1)*tri {
			t.Fatalf("buf[%d] = %v, want %v", i, v, float64(i+1)*tri)
		}
	}
	b := []byte("........")
	if r == n-1 {
		copy(b, "abcdefgh")
	}
	if err := Bcast(b, n-1); err != nil {
		t.Fatal(err)
	}
	if string(b) != "abcdefgh" {
		t.Fatalf("rank %d got %q", r, b)
	}
}

func TestBcast(t *testing.T) {
	r, n := rankSize(t)
	root := n - 1
	f := []float32{0, 0, 0}
	d := []float64{0, 0}
	if r == root {
		f = []float32{1.5, -2, 3e-8}
		d = []float64{7, float64(root)}
	}
	if err := Bcast(f, root); err != nil {
		t.Fatal(err)
	}
	if err := Bcast(d, root); err != nil {
		t.Fatal(err)
	}
	if f[0] != 1.5 || f[1] != -2 || f[2] != 3e-8 || d[0] != 7 || d[1] != float64(root) {
		t.Fatalf("rank %d got %v %v", r, f, d)
	}
	if err := Bcast(d, n); err == nil {
		t.Fatalf("a broadcast from rank %d of %d succeeded", n, n)
	}
}

func TestBarrier(t *testing.T) {
	if err := Barrier(); err != nil {
		t.Fatal(err)
	}
}

// TestAbortJob is the helper of scripts/test_mpi.sh: with TRIAD_MPI_ABORT_RANK=k
// set, rank k aborts the job with status 3 while the others wait in a barrier;
// the script checks that mpirun ends promptly with a non-zero status.
func TestAbortJob(t *testing.T) {
	v := os.Getenv("TRIAD_MPI_ABORT_RANK")
	if v == "" {
		t.Skip("helper for scripts/test_mpi.sh (set TRIAD_MPI_ABORT_RANK)")
	}
	r, _ := rankSize(t)
	if fmt.Sprint(r) == v {
		time.Sleep(200 * time.Millisecond)
		fmt.Fprintf(os.Stderr, "rank %d aborts\n", r)
		Abort(3)
	}
	if err := Barrier(); err != nil {
		t.Fatal(err)
	}
	t.Fatal("the barrier returned although a rank aborted")
}

// BenchmarkAllreduceSumFloat32 times the all-reduction of the fused gradient
// buffers of the char LSTMs 2x128 (281,925 parameters) and 2x512 (4,273,221).
// Every rank must run the same number of reductions, so give a fixed count:
//
//	mpirun -np 2 mpi.test -test.run '^$' -test.bench Allreduce -test.benchtime 50x
func BenchmarkAllreduceSumFloat32(b *testing.B) {
	for _, n := range []int{281925, 4273221} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			buf := make([]float32, n)
			b.SetBytes(int64(4 * n))
			for range b.N {
				if err := AllreduceSumFloat32(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
