package graph

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/internal/poison"
)

// Arena lends the memory of one program run at a time: the outputs and
// gradients of kernel nodes, the scratch buffers of fused kernels and the
// values of random inputs. Every program compiled over one Store shares its
// store's arena, so the memory of many compiled programs (one per bucket shape,
// training and evaluation, the decoder's steps) is that of the largest, not
// the sum of all.
//
// Programs over one store run one at a time (Program.Run holds the arena), and
// inside a run each buffer the arena lends has one user at a time: a kernel
// node's value until the last node that reads it has run (see liveValue), a
// fused kernel's scratch until its pass ends, anything else until the run
// ends. A value that must outlive the run (an output, the loss, a gradient) is
// copied out by the program's sinks.
//
// The buffers are ranges of one slab, placed as a memory allocator places
// them: a request takes the smallest free range that holds it (the lowest of
// equals), else the top of what the run holds; a freed range joins its free
// neighbours. A program asks for the same sizes in the same order on every
// run, so it gets the same places every run, and the arena touches no more of
// the slab than the most any run held at once (Bytes).
//
// The slab is address space reserved outside the garbage-collected heap (an
// anonymous mapping that reserves no memory up front, where the system has
// one): pages become memory as runs first touch them, and Release gives them
// back. A collector paces itself by the heap it manages: it lets the heap grow
// by a share of what is live (GOGC, 100% by default) before it collects. The
// arena's memory is long-lived and managed by the arena itself; kept on the
// heap, it would let the garbage grow by that share of it too. The slab is
// reserved at many times the first need, so it seldom moves; a run that
// outgrows it takes the excess from the heap, and the next run starts on a
// larger slab.
type Arena struct {
	mu    sync.Mutex
	slab  []byte
	maps  *slabMaps
	need  int    // the most any run held at once, in bytes
	top   int    // the end of the highest range this run holds
	holes []span // free ranges below top, by offset
	lent  []lentBuffer
}

// slabMaps are the slabs an arena has mapped: the one in use and the smaller
// ones it replaced, unmapped once the arena is collected.
type slabMaps struct{ all [][]byte }

// span is the range [off, off+n) of the slab, in bytes.
type span struct{ off, n int }

// lentBuffer is a range a run took, and whether it is still in use.
type lentBuffer struct {
	span
	used bool
}

// arenaAlign is the alignment of every range: a cache line.
const arenaAlign = 64

// NewArena returns an empty arena.
func NewArena() *Arena {
	a := &Arena{maps: &slabMaps{}}
	runtime.AddCleanup(a, func(m *slabMaps) {
		for _, s := range m.all {
			unmapSlab(s)
		}
	}, a.maps)
	return a
}

// begin starts a run: it waits for any other run over the arena to end, then
// moves to a larger slab if an earlier run outgrew this one, and marks all of
// it free.
func (a *Arena) begin() {
	a.mu.Lock()
	if a.need > len(a.slab) {
		a.reserve()
	}
	a.top, a.holes, a.lent = 0, a.holes[:0], a.lent[:0]
}

// reserve replaces the slab by one of slabReserve times the need (and at
// least minReserve). The old slab's pages go back to the system at once; its
// addresses stay mapped, reading as zeros, until the arena is collected, since
// headers of earlier runs may still point there.
func (a *Arena) reserve() {
	if a.slab != nil {
		dropPages(a.slab)
	}
	a.slab = mapSlab(max(minReserve, slabReserve*a.need), a.need)
	a.maps.all = append(a.maps.all, a.slab)
}

// A slab is reserved at slabReserve times the most a run has held, and at
// least minReserve bytes: address space, not memory (see Arena).
const slabReserve = 16

var minReserve = 1 << 30 // a variable for the tests

// mark returns how many buffers the run has taken so far.
func (a *Arena) mark() int { return len(a.lent) }

// giveBack frees the buffers the run took after mark m, for its next requests.
func (a *Arena) giveBack(m int) {
	for i := len(a.lent) - 1; i >= m; i-- {
		a.free(i)
	}
	a.lent = a.lent[:m]
}

// free makes buffer i of the run free again for the requests that follow.
func (a *Arena) free(i int) {
	l := &a.lent[i]
	if !l.used {
		return
	}
	l.used = false
	a.release(l.span)
}

// end ends the run that begin started.
func (a *Arena) end() { a.mu.Unlock() }

// Bytes returns the most memory any run has held at once: the part of the
// slab the runs touch.
func (a *Arena) Bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(a.need)
}

// Release gives the slab's pages back to the system at the end of a phase
// (training, an evaluation, one kind of decoding), collects the heap's garbage
// at once and gives that back too: the next phase's runs then touch the pages
// they need, and the process holds what that phase needs, not the most any
// phase did.
func (a *Arena) Release() {
	a.mu.Lock()
	if a.slab != nil {
		dropPages(a.slab)
	}
	a.mu.Unlock()
	debug.FreeOSMemory()
}

// take lends n elements of type T for the rest of the run, or until freed;
// they hold whatever their last user left there.
func take[T Float](a *Arena, n int) []T {
	size := int(unsafe.Sizeof(T(0))) * n
	s := a.place((size + arenaAlign - 1) &^ (arenaAlign - 1))
	a.lent = append(a.lent, lentBuffer{s, true})
	if s.off+s.n > len(a.slab) {
		if a.slab != nil { // the run holds ranges of this slab: the next run moves
			return make([]T, n)
		}
		a.reserve()
	}
	b := unsafe.Slice((*T)(unsafe.Pointer(&a.slab[s.off])), n)
	if poison.Scratch.Load() {
		for i := range b {
			b[i] = T(math.NaN())
		}
	}
	return b
}

// place returns the range of n bytes a request takes (see Arena).
func (a *Arena) place(n int) span {
	best := -1
	for i, f := range a.holes {
		if f.n >= n && (best < 0 || f.n < a.holes[best].n) {
			best = i
		}
	}
	if best >= 0 {
		s := span{a.holes[best].off, n}
		if a.holes[best].n == n {
			a.holes = append(a.holes[:best], a.holes[best+1:]...)
		} else {
			a.holes[best].off += n
			a.holes[best].n -= n
		}
		return s
	}
	s := span{a.top, n} // no hole reaches the top: release lowers it instead
	a.top += n
	a.need = max(a.need, a.top)
	return s
}

// release frees range s, joining it with its free neighbours; a free range
// that reaches the top lowers it.
func (a *Arena) release(s span) {
	i := 0
	for i < len(a.holes) && a.holes[i].off < s.off {
		i++
	}
	if i > 0 && a.holes[i-1].off+a.holes[i-1].n == s.off {
		i--
		s = span{a.holes[i].off, a.holes[i].n + s.n}
		a.holes = append(a.holes[:i], a.holes[i+1:]...)
	}
	if i < len(a.holes) && s.off+s.n == a.holes[i].off {
		s.n += a.holes[i].n
		a.holes = append(a.holes[:i], a.holes[i+1:]...)
	}
	if s.off+s.n == a.top {
		a.top = s.off
		return
	}
	a.holes = append(a.holes, span{})
	copy(a.holes[i+1:], a.holes[i:])
	a.holes[i] = s
}

// denseIn returns a tensor of dtype and shape over the arena's next range,
// zeroed unless overwritten, reusing the header *hdr when it already covers that
// memory. It returns nil where the arena cannot serve: no arena, a scalar or
// empty shape, or a dtype other than float32 and float64.
func denseIn(a *Arena, hdr **tensor.Dense, dtype tensor.Dtype, shape tensor.Shape, overwritten bool) *tensor.Dense {
	n := shape.TotalSize()
	if a == nil || shape.Dims() == 0 || n == 0 {
		return nil
	}
	switch dtype {
	case tensor.Float32:
		return slotDense(hdr, take[float32](a, n), shape, overwritten)
	case tensor.Float64:
		return slotDense(hdr, take[float64](a, n), shape, overwritten)
	}
	return nil
}

func slotDense[T float32 | float64](hdr **tensor.Dense, b []T, shape tensor.Shape, overwritten bool) *tensor.Dense {
	if !overwritten {
		clear(b)
	}
	if h := *hdr; h != nil {
		if d, ok := h.Data().([]T); ok && len(d) == len(b) && &d[0] == &b[0] {
			return h
		}
	}
	*hdr = tensor.New(tensor.WithBacking(b), tensor.WithShape(shape.Clone()...))
	return *hdr
}
