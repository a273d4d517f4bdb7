package decode

import (
	"sort"

	"github.com/pkg/errors"
)

// BeamSearchBatch decodes every source of srcs with beam search, as BeamSearch
// does each alone, but all together: the encoder runs once over srcs and every
// step feeds the live hypotheses of all the sources still searching through one
// Step call. opts holds the options of every source, or one Options for all;
// each source keeps its own beam, constraints, maximum length and stopping
// rules, and a source whose search is over leaves the decoding state. It
// returns each source's hypotheses, best first.
//
// The sources, and the state's rows at every step, are padded by repeating
// the last one to one of a few counts (all counts up to 8, then two per
// doubling), whose outputs are ignored: a model that compiles a program per
// batch size compiles a few of them. The log-probabilities of a row may then
// differ from BeamSearch's in the last bits, as they may with any change of
// batch size.
func BeamSearchBatch(m StepModel, srcs [][]int, opts []Options) ([][]Hypothesis, error) {
	if len(opts) != 1 && len(opts) != len(srcs) {
		return nil, errors.Errorf("beam search: %d options for %d sources", len(opts), len(srcs))
	}
	if len(srcs) == 0 {
		return nil, nil
	}
	beams := make([]*beam, len(srcs))
	for i := range beams {
		opt := opts[min(i, len(opts)-1)]
		if err := opt.validate(); err != nil {
			return nil, errors.Wrapf(err, "source %d", i)
		}
		beams[i] = newBeam(opt)
	}
	padded := srcs[:len(srcs):len(srcs)]
	for len(padded) < paddedRows(len(srcs)) {
		padded = append(padded, srcs[len(srcs)-1])
	}
	st, err := m.Encode(padded)
	if err != nil {
		return nil, errors.Wrap(err, "beam search: encoder")
	}
	// searching lists the sources still searching, in the order of their rows
	// in st: each has one row per live hypothesis, in order
	searching := make([]int, len(srcs))
	for i := range searching {
		searching[i] = i
	}
	var prev, rows []int
	for t := 0; len(searching) > 0; t++ {
		prev = prev[:0]
		for _, i := range searching {
			prev = beams[i].prevTokens(prev)
		}
		live := len(prev)
		for len(prev) < st.Rows() { // padding rows repeat the last one
			prev = append(prev, prev[live-1])
		}
		out, next, err := m.Step(st, prev)
		if err != nil {
			return nil, errors.Wrapf(err, "beam search: step %d", t)
		}
		rows = rows[:0]
		still := searching[:0]
		offset := 0
		for _, i := range searching {
			n := len(beams[i].live)
			parents, done := beams[i].advance(t, out, offset)
			if !done {
				for _, p := range parents {
					rows = append(rows, offset+p)
				}
				still = append(still, i)
			}
			offset += n
		}
		searching = still
		if len(searching) == 0 {
			release(next)
			break
		}
		st, err = next.Select(padRows(rows))
		release(next)
		if err != nil {
			return nil, errors.Wrapf(err, "beam search: step %d", t)
		}
	}
	hyps := make([][]Hypothesis, len(srcs))
	for i, b := range beams {
		hyps[i] = b.hypotheses()
	}
	return hyps, nil
}

// paddedRows returns the number of rows a state of n rows is padded to: n up
// to 8, else the smallest of 2^k and 3*2^(k-1) that holds n.
func paddedRows(n int) int {
	if n <= 8 {
		return n
	}
	p := 8
	for {
		if n <= p {
			return p
		}
		if n <= p+p/2 {
			return p + p/2
		}
		p *= 2
	}
}

// padRows returns rows padded to paddedRows(len(rows)) rows by repeating its
// last one.
func padRows(rows []int) []int {
	for n := len(rows); len(rows) < paddedRows(n); {
		rows = append(rows, rows[n-1])
	}
	return rows
}

// ByLength decodes the non-empty sources of srcs with decodeBatch, in batches
// of at most size sources of similar lengths (ordered by length, ties in the
// order of srcs), so that a batch pads its sources little, and returns each
// source's result at the source's index; an empty source, which has nothing
// to decode, gets the zero T.
func ByLength[T any](srcs [][]int, size int, decodeBatch func(batch [][]int) ([]T, error)) ([]T, error) {
	order := make([]int, 0, len(srcs))
	for i, s := range srcs {
		if len(s) > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return len(srcs[order[a]]) < len(srcs[order[b]]) })
	out := make([]T, len(srcs))
	for lo := 0; lo < len(order); lo += size {
		chunk := order[lo:min(lo+size, len(order))]
		batch := make([][]int, len(chunk))
		for i, j := range chunk {
			batch[i] = srcs[j]
		}
		results, err := decodeBatch(batch)
		if err != nil {
			return nil, err
		}
		for i, j := range chunk {
			out[j] = results[i]
		}
	}
	return out, nil
}
