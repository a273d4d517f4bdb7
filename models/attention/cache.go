package attention

import (
	"fmt"
	"math"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/avx2"
)

// KVCache holds the keys and values of one attention layer for incremental
// decoding: Rows rows, Heads heads of width HeadDim, and Block columns
// (positions) each, laid out (rows, heads, block, dim) in the element type of
// the model. A decoder writes the keys and values of each new position into
// the next free column and attends over the columns filled so far, so that a
// step costs one position of computation instead of the whole prefix.
//
// Gorgonia graphs have static shapes and copy their inputs and outputs, so the
// cache lives outside the graph: a node that reads it (CachedAttention, or a
// model's own fused sub-layer through AttendCached) holds a pointer to it.
type KVCache struct {
	rows, heads, block, dim int
	k, v                    any // []float32 or []float64
	weights                 any // AttendCached's attention weights, reused from step to step
}

// NewKVCache returns a zeroed cache of rows rows, heads heads of width dim and
// block columns, in dtype (tensor.Float32 or tensor.Float64).
func NewKVCache(dtype tensor.Dtype, rows, heads, block, dim int) *KVCache {
	c := &KVCache{rows: rows, heads: heads, block: block, dim: dim}
	n := rows * heads * block * dim
	if dtype == tensor.Float32 {
		c.k, c.v = make([]float32, n), make([]float32, n)
	} else {
		c.k, c.v = make([]float64, n), make([]float64, n)
	}
	return c
}

// Rows returns the number of rows.
func (c *KVCache) Rows() int { return c.rows }

// Heads returns the number of heads.
func (c *KVCache) Heads() int { return c.heads }

// Block returns the number of columns.
func (c *KVCache) Block() int { return c.block }

// Select returns a new cache made of the given rows of c (repeats allowed), in
// order, with their first cols columns copied (the columns filled so far; the
// others are zero): beam search reorders and copies hypotheses with it.
func (c *KVCache) Select(rows []int, cols int) (*KVCache, error) {
	return new(KVPool).Select(c, rows, cols) // an empty pool gives zeroed caches
}

func (c *KVCache) checkSelect(rows []int, cols int) error {
	if cols < 0 || cols > c.block {
		return errors.Errorf("key/value cache: %d columns of a block of %d", cols, c.block)
	}
	for _, r := range rows {
		if r < 0 || r >= c.rows {
			return errors.Errorf("key/value cache: row %d of %d", r, c.rows)
		}
	}
	return nil
}

// copyRows copies the first cols columns of the given rows of c's keys k and
// values v into the rows of nk and nv, in order.
func copyRows[T graph.Float](c *KVCache, rows []int, cols int, nk, nv, k, v []T) {
	per, n := c.block*c.dim, cols*c.dim
	for i, r := range rows {
		for h := 0; h < c.heads; h++ {
			from, to := (r*c.heads+h)*per, (i*c.heads+h)*per
			copy(nk[to:to+n], k[from:from+n])
			copy(nv[to:to+n], v[from:from+n])
		}
	}
}

// KVPool keeps caches that decoding has finished with, so that beam search,
// which reorders its hypotheses into new caches at every step, reuses their
// memory instead of allocating (and zeroing) a block of every layer per step.
// A cache of more rows serves a request for fewer (the layout is row-major),
// so the pool holds about what the largest state of a search needs, however
// its rows shrink. A pooled cache comes back with stale values in its columns:
// the attention reads only the columns written since, so nothing needs
// clearing. A KVPool is not safe for concurrent use; its zero value is empty.
type KVPool struct {
	free map[kvShape][]*KVCache
}

// kvShape is what caches must share to stand in for each other.
type kvShape struct {
	dtype             tensor.Dtype
	heads, block, dim int
}

// kvPoolDepth is how many caches of one shape a KVPool keeps: a beam search
// step frees one cache per layer and takes as many.
const kvPoolDepth = 64

// Get returns a cache of the given shape: the smallest pooled one with room
// for rows rows (its columns then hold stale values), else a new one.
func (p *KVPool) Get(dtype tensor.Dtype, rows, heads, block, dim int) *KVCache {
	key, n := kvShape{dtype, heads, block, dim}, rows*heads*block*dim
	free, best := p.free[key], -1
	for i, c := range free {
		if room := c.capacity(); room >= n && (best < 0 || room < free[best].capacity()) {
			best = i
		}
	}
	if best < 0 {
		return NewKVCache(dtype, rows, heads, block, dim)
	}
	c := free[best]
	p.free[key] = slices.Delete(free, best, best+1)
	out := &KVCache{rows: rows, heads: heads, block: block, dim: dim, weights: c.weights}
	switch k := c.k.(type) {
	case []float32:
		out.k, out.v = k[:n], c.v.([]float32)[:n]
	case []float64:
		out.k, out.v = k[:n], c.v.([]float64)[:n]
	}
	return out
}

// Put gives c back for a later Get. The caller must not use c afterwards;
// putting a cache twice keeps it once.
func (p *KVPool) Put(c *KVCache) {
	if p.free == nil {
		p.free = map[kvShape][]*KVCache{}
	}
	key := kvShape{c.dtype(), c.heads, c.block, c.dim}
	if free := p.free[key]; len(free) < kvPoolDepth && !slices.Contains(free, c) {
		p.free[key] = append(free, c)
	}
}

// capacity returns how many values each of c's keys and values can hold.
func (c *KVCache) capacity() int {
	if k, ok := c.k.([]float32); ok {
		return cap(k)
	}
	return cap(c.k.([]float64))
}

// Select is KVCache.Select into a cache from the pool.
func (p *KVPool) Select(c *KVCache, rows []int, cols int) (*KVCache, error) {
	if err := c.checkSelect(rows, cols); err != nil {
		return nil, err
	}
	out := p.Get(c.dtype(), len(rows), c.heads, c.block, c.dim)
	switch k := c.k.(type) {
	case []float32:
		copyRows(c, rows, cols, out.k.([]float32), out.v.([]float32), k, c.v.([]float32))
	case []float64:
		copyRows(c, rows, cols, out.k.([]float64), out.v.([]float64), k, c.v.([]float64))
	}
	return out, nil
}

func (c *KVCache) dtype() tensor.Dtype {
	if _, ok := c.k.([]float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// CachedAttention is the node of a self-attention layer over a KVCache: for
// the packed projections qkv (B, S, 3E) of S new positions per row (Q, K and V
// side by side, head h in columns [h d, (h+1) d) of each), the first new
// position's column col (a (1) int tensor) and each row's first real column
// start (B) (the left padding of a batch of prompts of unequal length), it
// writes the new keys and values into columns [col, col+S) of the cache, then
// lets the query of column c of row b attend to the keys of columns
// [start_b, c], and returns the merged heads (B, S, E) (AttendCached). A query
// left of its row's start (padding) gets a zero output. The graph's shapes do
// not depend on col: one compiled program serves every step. Nothing is
// differentiated.
type CachedAttention struct {
	graph.NoGradient
	Cache *KVCache
}

// Key names the cache: two layers' nodes are never merged.
func (k CachedAttention) Key() string {
	return fmt.Sprintf("attention.cached(h=%d)@%p", k.Cache.heads, k.Cache)
}

// OutputShape implements graph.Kernel.
func (k CachedAttention) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("cached attention: %d inputs, want qkv, col and start", len(in))
	}
	q := in[0]
	c := k.Cache
	if q.Dims() != 3 || q[2] != 3*c.heads*c.dim {
		return nil, errors.Errorf("cached attention: projections %v, want (B, S, 3E) with E = %d heads of %d", q, c.heads, c.dim)
	}
	b, s, e := q[0], q[1], q[2]/3
	if b != c.rows || s > c.block {
		return nil, errors.Errorf("cached attention: projections %v for a cache of %d rows, width %d, block %d", q, c.rows, e, c.block)
	}
	if in[1].TotalSize() != 1 || !in[2].Eq(tensor.Shape{b}) {
		return nil, errors.Errorf("cached attention: column %v and starts %v, want (1) and (%d)", in[1], in[2], b)
	}
	return tensor.Shape{b, s, e}, nil
}

// Differentiable implements graph.Kernel: no input is.
func (CachedAttention) Differentiable(n int) []bool { return make([]bool, n) }

// Overwrites implements graph.Overwriter: every row and head is written.
func (CachedAttention) Overwrites(int) bool { return true }

// ForwardInto implements graph.Kernel.
func (k CachedAttention) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()[1]
	col := graph.Ints(graph.Contiguous(in[1]))[0]
	start := graph.Ints(graph.Contiguous(in[2]))
	return graph.Dispatch(out.Dtype(),
		func() error {
			return AttendCached(k.Cache, s, col, start, graph.RowMajor[float32](in[0]), graph.Slice[float32](out))
		},
		func() error {
			return AttendCached(k.Cache, s, col, start, graph.RowMajor[float64](in[0]), graph.Slice[float64](out))
		})
}

// AttendCached is the computation of CachedAttention on slices: qkv (B, S, 3E)
// row-major, out (B, S, E), start (B) (nil: every row starts at column 0). The
// cache's element type must be T's.
func AttendCached[T graph.Float](c *KVCache, s, col int, start []int, qkv, out []T) error {
	kc, ok := c.k.([]T)
	if !ok {
		return errors.Errorf("cached attention: a cache of %T for %T values", c.k, qkv)
	}
	if col < 0 || col+s > c.block {
		return errors.Errorf("cached attention: positions [%d, %d) outside the block of %d", col, col+s, c.block)
	}
	if start != nil && len(start) != c.rows {
		return errors.Errorf("cached attention: %d starts for %d rows", len(start), c.rows)
	}
	vc := c.v.([]T)
	h, d := c.heads, c.dim
	e, n := h*d, col+s
	scale := T(1 / math.Sqrt(float64(d)))
	workers := graph.Workers(c.rows*h, s*n*d)
	scratch := weightsBuffer[T](c, workers*s*n)
	one := s == 1 && d%8 == 0 && graph.Is32[T]() && avx2.Available
	graph.ParallelWorkers(c.rows*h, s*n*d, func(w, lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, hd := bh/h, bh%h
			q, o := b*s*3*e+hd*d, b*s*e+hd*d
			ks, vs := kc[bh*c.block*d:(bh+1)*c.block*d], vc[bh*c.block*d:(bh+1)*c.block*d]
			for i := 0; i < s; i++ {
				copy(ks[(col+i)*d:(col+i+1)*d], qkv[q+i*3*e+e:][:d])
				copy(vs[(col+i)*d:(col+i+1)*d], qkv[q+i*3*e+2*e:][:d])
			}
			first := 0
			if start != nil {
				first = min(max(start[b], 0), n)
			}
			keys := n - first
			if keys == 0 {
				for i := 0; i < s; i++ {
					clear(out[o+i*e : o+i*e+d])
				}
				continue
			}
			p := scratch[w*s*n : w*s*n+s*keys]
			if one {
				// one new position: a row against the cache, in registers
				// rather than through two BLAS calls of 1 x keys x d
				avx2.DotRows32(graph.As32(p), graph.As32(qkv[q:q+d]), graph.As32(ks[first*d:n*d]), d)
			} else {
				graph.Gemm(false, true, s, keys, d, qkv[q:], 3*e, ks[first*d:], d, 0, p, keys)
			}
			// query i (column col+i) sees the keys of columns [first, col+i]
			CausalWeights(p, s, keys, col-first, scale)
			if one {
				avx2.MixRows32(graph.As32(out[o:o+d]), graph.As32(p), graph.As32(vs[first*d:n*d]), d)
			} else {
				graph.Gemm(false, false, s, d, keys, p, keys, vs[first*d:], d, 0, out[o:], e)
			}
		}
	})
	return nil
}

// weightsBuffer returns c's buffer of n attention weights, reallocated only
// when too small; its contents are stale.
func weightsBuffer[T graph.Float](c *KVCache, n int) []T {
	buf, _ := c.weights.([]T)
	if cap(buf) < n {
		buf = make([]T, n)
		c.weights = buf
	}
	return buf[:n]
}

// CausalWeights overwrites each of the rows of scores p (rows, n) with its
// softmax over columns [0, i+1+shift) (scores scaled by scale first; clipped to
// n), the columns after them set to 0: the causal weights of query i when key
// column 0 is shift columns left of the query's own. A row with no column left
// is all 0. Sums are kept in float64.
func CausalWeights[T graph.Float](p []T, rows, n, shift int, scale T) {
	for i := 0; i < rows; i++ {
		row := p[i*n : (i+1)*n]
		end := min(i+1+shift, n)
		if end <= 0 {
			clear(row)
			continue
		}
		m := row[0]
		for _, v := range row[1:end] {
			m = max(m, v)
		}
		var sum float64
		for j, v := range row[:end] {
			e := graph.Exp((v - m) * scale)
			row[j] = e
			sum += float64(e)
		}
		inv := T(1 / sum)
		for j := range row[:end] {
			row[j] *= inv
		}
		clear(row[end:])
	}
}

var _ graph.Kernel = CachedAttention{}
