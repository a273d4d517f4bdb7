package transformer

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
)

// cachedState is the state of cached decoding: the source's keep mask, the
// memory's keys and values of every decoder layer, and the self-attention
// caches of every decoder layer with their first n columns filled (every row
// has fed n tokens, BOS first). States derived by Step share their caches
// with the state they come from: owner records how many columns of the shared
// caches some state has written, and a Step from a state behind it copies the
// caches first.
//
// The memory's keys and values (cross) are never written after the encoder
// pass: every state of a batch shares them, row source[r] serving the state's
// row r, so that beam search moves no memory when it reorders or drops
// hypotheses.
type cachedState struct {
	srcKeep *tensor.Dense   // (rows, S), row r the keep mask of row source[r]
	cross   []*tensor.Dense // per layer (sources, S, 2 Dim)
	source  []int
	self    []*attention.KVCache
	n       int
	owner   *cacheOwner
	pool    *attention.KVPool // where Release puts self's caches
}

// Release implements decode.Releaser: the self-attention caches go back to the
// decoder's pool.
func (s *cachedState) Release() {
	for _, c := range s.self {
		s.pool.Put(c)
	}
	s.self = nil
}

// cacheOwner is what the states sharing one set of caches know of them.
type cacheOwner struct{ filled int }

func (s *cachedState) Rows() int { return s.srcKeep.Shape()[0] }

// Select copies the chosen rows' self-attention caches and keep masks; the
// memory stays shared.
func (s *cachedState) Select(rows []int) (decode.State, error) {
	next := &cachedState{srcKeep: s.srcKeep, cross: s.cross, source: make([]int, len(rows)), n: s.n, owner: &cacheOwner{filled: s.n}, pool: s.pool}
	same := len(rows) == len(s.source)
	for i, r := range rows {
		if r < 0 || r >= len(s.source) {
			return nil, errors.Errorf("transformer decoding state: row %d of %d", r, len(s.source))
		}
		next.source[i] = s.source[r]
		same = same && next.source[i] == s.source[i]
	}
	var err error
	if !same {
		if next.srcKeep, err = graph.SelectRows(s.srcKeep, rows); err != nil {
			return nil, err
		}
	}
	if next.self, err = selectCaches(s.pool, s.self, rows, s.n); err != nil {
		return nil, err
	}
	return next, nil
}

// selectCaches returns the given rows of every cache, n columns each, in
// caches from pool.
func selectCaches(pool *attention.KVPool, caches []*attention.KVCache, rows []int, n int) ([]*attention.KVCache, error) {
	out := make([]*attention.KVCache, len(caches))
	for i, c := range caches {
		var err error
		if out[i], err = pool.Select(c, rows, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newCachedState returns the state before the first step over the encoder's
// memory (rows, S, Dim) and the source's keep mask: the memory's keys and
// values projected for every layer and empty self-attention caches.
func (d *Decoder) newCachedState(memory, srcKeep *tensor.Dense) (decode.State, error) {
	cross, err := d.Model.memoryKV(memory)
	if err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	cfg := d.Model.Config
	rows := memory.Shape()[0]
	self := make([]*attention.KVCache, len(d.Model.Decoder))
	for i := range self {
		self[i] = d.kvPool.Get(d.Store.Dtype(), rows, cfg.Heads, cfg.MaxLen, cfg.Dim/cfg.Heads)
	}
	source := make([]int, rows)
	for i := range source {
		source[i] = i
	}
	return &cachedState{srcKeep: srcKeep, cross: cross, source: source, self: self, owner: &cacheOwner{}, pool: &d.kvPool}, nil
}

// cachedStep feeds tokens at column st.n of every row.
func (d *Decoder) cachedStep(st *cachedState, tokens []int) (decode.StepOutput, decode.State, error) {
	rows := st.Rows()
	if len(tokens) != rows {
		return decode.StepOutput{}, nil, errors.Errorf("transformer step: %d tokens for %d rows", len(tokens), rows)
	}
	if maxLen := d.Model.Config.MaxLen; st.n+1 > maxLen {
		return decode.StepOutput{}, nil, errors.Errorf("transformer step: prefix of %d tokens exceeds the maximum length %d", st.n+1, maxLen)
	}
	next := &cachedState{srcKeep: st.srcKeep, cross: st.cross, source: st.source, self: st.self, n: st.n + 1, owner: st.owner, pool: st.pool}
	if st.owner.filled > st.n { // column n already written from these caches: fork them
		all := make([]int, rows)
		for i := range all {
			all[i] = i
		}
		var err error
		if next.self, err = selectCaches(st.pool, st.self, all, st.n); err != nil {
			return decode.StepOutput{}, nil, err
		}
		next.owner = &cacheOwner{}
	}
	p, err := d.progs.Step([3]int{rows, st.srcKeep.Shape()[1], 0})
	if err != nil {
		return decode.StepOutput{}, nil, err
	}
	if err := p.SetInputs(map[string]*tensor.Dense{"tok": graph.FromInts(tokens, rows, 1), "col": graph.FromInts([]int{st.n}, 1),
		"src_keep": st.srcKeep}); err != nil {
		return decode.StepOutput{}, nil, err
	}
	d.caches.self, d.caches.cross, d.caches.crossRows = next.self, next.cross, next.source
	err = p.Run()
	d.caches.self, d.caches.cross, d.caches.crossRows = nil, nil, nil
	if err != nil {
		return decode.StepOutput{}, nil, errors.Wrap(err, "transformer step")
	}
	next.owner.filled = next.n
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	return d.output(logp, w), next, nil
}
