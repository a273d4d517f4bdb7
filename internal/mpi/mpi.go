//go:build mpi

package mpi

/*
#cgo pkg-config: mpi
#include <stdlib.h>
#include <mpi.h>

// Kinds of element, mapped to MPI datatypes on the C side so that the Go side
// never handles MPI_Datatype values (handles in Open MPI, integers in MPICH).
enum { kindByte = 0, kindInt64 = 1, kindFloat32 = 2, kindFloat64 = 3 };

static MPI_Datatype triad_type(int kind) {
	switch (kind) {
	case kindInt64: return MPI_INT64_T;
	case kindFloat32: return MPI_FLOAT;
	case kindFloat64: return MPI_DOUBLE;
	default: return MPI_BYTE;
	}
}

static int triad_init(int *provided) {
	int err = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (err != MPI_SUCCESS) return err;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

static int triad_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }

static int triad_initialized(void) {
	int flag = 0;
	MPI_Initialized(&flag);
	return flag;
}

static int triad_finalized(void) {
	int flag = 0;
	MPI_Finalized(&flag);
	return flag;
}

static int triad_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static int triad_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

// triad_local_size counts the processes that share this one's node (memory).
static int triad_local_size(int *size) {
	MPI_Comm local;
	int err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
	if (err != MPI_SUCCESS) return err;
	err = MPI_Comm_size(local, size);
	MPI_Comm_free(&local);
	return err;
}

static int triad_allreduce_sum(void *buf, int count, int kind) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, count, triad_type(kind), MPI_SUM, MPI_COMM_WORLD);
}

static int triad_bcast(void *buf, int count, int kind, int root) {
	return MPI_Bcast(buf, count, triad_type(kind), root, MPI_COMM_WORLD);
}

static int triad_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int triad_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int triad_finalize(void) { return MPI_Finalize(); }

static void triad_error_string(int code, char *out, int cap) {
	int n = 0;
	if (MPI_Error_string(code, out, &n) != MPI_SUCCESS || n <= 0) {
		out[0] = 0;
		return;
	}
	out[n < cap ? n : cap - 1] = 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
)

// mu serialises every MPI call (MPI_THREAD_SERIALIZED).
var mu sync.Mutex

// maxCount is the largest element count passed to one MPI call (a C int); a
// variable so that the tests can exercise the splitting.
var maxCount = 1 << 30

// mpiError turns an MPI return code into an error naming the call.
func mpiError(call string, code C.int) error {
	if code == C.MPI_SUCCESS {
		return nil
	}
	buf := make([]byte, C.MPI_MAX_ERROR_STRING+1)
	C.triad_error_string(code, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	msg := C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	if msg == "" {
		msg = fmt.Sprintf("error code %d", int(code))
	}
	return errors.Errorf("mpi: %s: %s", call, msg)
}

// Init initialises MPI for this process (MPI_Init_thread with
// MPI_THREAD_SERIALIZED). It is an error to call it twice or after Finalize.
func Init() error {
	mu.Lock()
	defer mu.Unlock()
	if C.triad_finalized() != 0 {
		return errors.New("mpi: Init after Finalize")
	}
	if C.triad_initialized() != 0 {
		return errors.New("mpi: Init called twice")
	}
	var provided C.int
	if err := mpiError("MPI_Init_thread", C.triad_init(&provided)); err != nil {
		return err
	}
	if provided < C.triad_thread_serialized() {
		return errors.Errorf("mpi: the MPI library provides thread level %d, below MPI_THREAD_SERIALIZED (%d), which Go programs need",
			int(provided), int(C.triad_thread_serialized()))
	}
	return nil
}

// Initialized reports whether Init has succeeded and Finalize has not been called.
func Initialized() bool {
	mu.Lock()
	defer mu.Unlock()
	return C.triad_initialized() != 0 && C.triad_finalized() == 0
}

func checkLive(call string) error {
	if C.triad_initialized() == 0 || C.triad_finalized() != 0 {
		return errors.Errorf("mpi: %s outside Init ... Finalize", call)
	}
	return nil
}

// live runs f under the lock once checkLive(call) passes.
func live(call string, f func() error) error {
	mu.Lock()
	defer mu.Unlock()
	if err := checkLive(call); err != nil {
		return err
	}
	return f()
}

// query returns the integer that get stores, as live(call, ...) runs it;
// mpiCall names get in errors.
func query(call, mpiCall string, get func(*C.int) C.int) (int, error) {
	var n C.int
	err := live(call, func() error { return mpiError(mpiCall, get(&n)) })
	return int(n), err
}

// Rank returns this process's rank in MPI_COMM_WORLD, from 0 to Size()-1.
func Rank() (int, error) {
	return query("Rank", "MPI_Comm_rank", func(r *C.int) C.int { return C.triad_rank(r) })
}

// Size returns the number of processes in MPI_COMM_WORLD.
func Size() (int, error) {
	return query("Size", "MPI_Comm_size", func(n *C.int) C.int { return C.triad_size(n) })
}

// LocalSize returns the number of processes of MPI_COMM_WORLD on this node (those
// that can share memory with this one, MPI_COMM_TYPE_SHARED), this one included.
// It is collective: every process must call it.
func LocalSize() (int, error) {
	return query("LocalSize", "MPI_Comm_split_type", func(n *C.int) C.int { return C.triad_local_size(n) })
}

// Elem is an element type the collectives carry.
type Elem interface {
	byte | int64 | float32 | float64
}

func kindOf[T Elem]() C.int {
	var z T
	switch any(z).(type) {
	case int64:
		return C.kindInt64
	case float32:
		return C.kindFloat32
	case float64:
		return C.kindFloat64
	}
	return C.kindByte
}

// AllreduceSum replaces buf, on every process, by the element-wise sum of every
// process's buf (MPI_Allreduce with MPI_IN_PLACE and MPI_SUM). All processes must
// call it with buffers of the same length. Sums of floating-point numbers are
// rounded in the order the library chooses, which MPI implementations keep the
// same on every process.
func AllreduceSum[T int64 | float32 | float64](buf []T) error {
	return inChunks("AllreduceSum", "MPI_Allreduce", buf, func(p unsafe.Pointer, n, kind C.int) C.int {
		return C.triad_allreduce_sum(p, n, kind)
	})
}

// inChunks applies the collective call to buf in pieces of at most maxCount
// elements, as live(call, ...) runs it; mpiCall names call in errors.
func inChunks[T Elem](call, mpiCall string, buf []T, collective func(p unsafe.Pointer, n, kind C.int) C.int) error {
	return live(call, func() error {
		kind := kindOf[T]()
		for lo := 0; lo < len(buf); lo += maxCount {
			n := min(maxCount, len(buf)-lo)
			if err := mpiError(mpiCall, collective(unsafe.Pointer(&buf[lo]), C.int(n), kind)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AllreduceSumFloat32 is AllreduceSum for float32 buffers.
func AllreduceSumFloat32(buf []float32) error { return AllreduceSum(buf) }

// AllreduceSumFloat64 is AllreduceSum for float64 buffers.
func AllreduceSumFloat64(buf []float64) error { return AllreduceSum(buf) }

// Bcast copies root's buf into every other process's buf (MPI_Bcast). All
// processes must call it with buffers of the same length.
func Bcast[T Elem](buf []T, root int) error {
	return inChunks("Bcast", "MPI_Bcast", buf, func(p unsafe.Pointer, n, kind C.int) C.int {
		return C.triad_bcast(p, n, kind, C.int(root))
	})
}

// Barrier returns when every process has called it.
func Barrier() error {
	return live("Barrier", func() error { return mpiError("MPI_Barrier", C.triad_barrier()) })
}

// Abort ends every process of the job with the exit status code (MPI_Abort on
// MPI_COMM_WORLD). It does not return: should the library return, the process
// exits with code itself. It takes no lock, so that it works while another
// goroutine waits in a collective call.
func Abort(code int) {
	if C.triad_initialized() != 0 && C.triad_finalized() == 0 {
		C.triad_abort(C.int(code))
	}
	os.Exit(code)
}

// Finalize ends MPI for this process (MPI_Finalize); every process must call it
// before it exits normally. Calling it again is a no-op.
func Finalize() error {
	mu.Lock()
	defer mu.Unlock()
	if C.triad_initialized() == 0 || C.triad_finalized() != 0 {
		return nil
	}
	return mpiError("MPI_Finalize", C.triad_finalize())
}
