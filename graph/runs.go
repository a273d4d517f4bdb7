package graph

import "github.com/pkg/errors"

// Runs is the state a fused kernel's node shares with its gradient nodes: the
// forward passes run so far, the pass whose shared backward work is done, and
// the buffers both directions use, allocated on the first pass and reused.
//
// A kernel keeps a *Runs (one per node), counts each forward pass (Forward),
// refuses a gradient before the first one (Started) and does the work every
// input's gradient reads once per pass (Once).
//
// Compiled into a program, the kernel's scratch (Scratch) comes from the
// program's Arena and lasts one run; the kernel says where its Runs is by
// implementing Stateful.
type Runs struct {
	fwd, bwd uint64
	bufs     any
	arena    *Arena
	shared   bool // another node reads bufs later in the run (Share)
}

// Stateful is implemented by a kernel that keeps a *Runs, so that a program
// lends it the arena's memory for its scratch.
type Stateful interface {
	Runs() *Runs
}

// Scratch returns n elements of scratch for the pass in progress: in a
// program, the arena's next slot, valid until the run ends; outside one, buf
// grown to n. Either way it holds whatever was there before: the kernel writes
// each element before it reads it.
func Scratch[T Float](r *Runs, buf []T, n int) []T {
	if r != nil && r.arena != nil {
		return take[T](r.arena, n)
	}
	return Grow(buf, n)
}

// Share says that another node reads the kernel's buffers later in the same
// run (the attention weights of a fused layer, say): a forward-only program
// then keeps them to the run's end instead of reusing them at once.
func (r *Runs) Share() { r.shared = true }

// Forward counts a forward pass.
func (r *Runs) Forward() { r.fwd++ }

// Started returns an error naming the kernel what when no forward pass has run.
func (r *Runs) Started(what string) error {
	if r.fwd == 0 {
		return errors.New(what + ": gradient requested before the forward pass")
	}
	return nil
}

// Once runs prepare at its first call after each forward pass: the backward work
// the gradients of all the inputs of one pass share.
func (r *Runs) Once(prepare func()) {
	if r.bwd != r.fwd {
		prepare()
		r.bwd = r.fwd
	}
}

// Buffers returns the buffers of type B that r holds, after storing a new zero B
// when it holds none (or buffers of another type: another element type).
func Buffers[B any](r *Runs) *B {
	b, ok := Held[B](r)
	if !ok {
		b = new(B)
		r.Hold(b)
	}
	return b
}

// Held returns the buffers of type B that r holds, and whether it holds some.
func Held[B any](r *Runs) (*B, bool) {
	b, ok := r.bufs.(*B)
	return b, ok
}

// Hold stores the buffers b in r, in place of any it held.
func (r *Runs) Hold(b any) { r.bufs = b }
