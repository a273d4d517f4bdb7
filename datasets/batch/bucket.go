package batch

import (
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
)

// Shape is the padded length of a bucket's source and target sequences.
type Shape struct {
	Src, Tgt int
}

// BucketConfig configures a Bucketer.
type BucketConfig struct {
	// SrcBounds and TgtBounds are the padded lengths of the buckets, strictly
	// ascending and positive. An example goes to the smallest bound that holds
	// its length.
	SrcBounds, TgtBounds []int
	// Joint pairs the bounds: bucket k has shape (SrcBounds[k], TgtBounds[k]),
	// and an example goes to the smallest k that holds both of its lengths, so
	// there are at most len(SrcBounds) shapes (the lists must have the same
	// length). Otherwise buckets form the grid of every (source bound, target
	// bound), at most len(SrcBounds)*len(TgtBounds) shapes.
	Joint bool
	// BatchSize is the number of rows of every batch. The last batch of a bucket
	// may hold fewer examples; pad it to BatchSize rows (Gather) to keep the
	// shape.
	BatchSize int
	// DropTooLong leaves out examples longer than the largest bounds (listed by
	// Skipped); otherwise they are an error.
	DropTooLong bool
}

// Bucketer groups sentence pairs into batches by length so that every batch
// pads to one of a few fixed shapes, and a program compiled once per shape
// serves a whole epoch.
type Bucketer struct {
	batchSize int
	shapes    []Shape
	members   [][]int // members[k] lists the examples of shapes[k], ascending
	skipped   []int
	n         int
}

// Batch is one batch of a Bucketer epoch: the examples (at most the batch size)
// and the shape their sequences pad to.
type Batch struct {
	Shape   Shape
	Indices []int
}

func checkBounds(name string, b []int) error {
	if len(b) == 0 {
		return errors.Errorf("batch: %s is empty", name)
	}
	for i, x := range b {
		if x <= 0 || (i > 0 && x <= b[i-1]) {
			return errors.Errorf("batch: %s %v is not strictly ascending and positive", name, b)
		}
	}
	return nil
}

// bucketOf returns the index of the smallest bound >= n, or -1.
func bucketOf(bounds []int, n int) int {
	k := sort.SearchInts(bounds, n)
	if k == len(bounds) {
		return -1
	}
	return k
}

// NewBucketer assigns example i, with source length srcLens[i] and target
// length tgtLens[i], to a bucket. The lengths are those of the padded rows the
// model sees: include any BOS and EOS tokens that will be added.
func NewBucketer(srcLens, tgtLens []int, cfg BucketConfig) (*Bucketer, error) {
	if len(srcLens) != len(tgtLens) {
		return nil, errors.Errorf("batch: %d source lengths but %d target lengths", len(srcLens), len(tgtLens))
	}
	if cfg.BatchSize <= 0 {
		return nil, errors.Errorf("batch: batch size must be positive, got %d", cfg.BatchSize)
	}
	if err := checkBounds("SrcBounds", cfg.SrcBounds); err != nil {
		return nil, err
	}
	if err := checkBounds("TgtBounds", cfg.TgtBounds); err != nil {
		return nil, err
	}
	if cfg.Joint && len(cfg.SrcBounds) != len(cfg.TgtBounds) {
		return nil, errors.Errorf("batch: joint buckets need as many source bounds (%d) as target bounds (%d)",
			len(cfg.SrcBounds), len(cfg.TgtBounds))
	}
	byShape := make(map[Shape][]int)
	b := &Bucketer{batchSize: cfg.BatchSize}
	for i := range srcLens {
		sl, tl := srcLens[i], tgtLens[i]
		if sl < 0 || tl < 0 {
			return nil, errors.Errorf("batch: example %d has a negative length (%d, %d)", i, sl, tl)
		}
		si, ti := bucketOf(cfg.SrcBounds, sl), bucketOf(cfg.TgtBounds, tl)
		if si < 0 || ti < 0 {
			if cfg.DropTooLong {
				b.skipped = append(b.skipped, i)
				continue
			}
			return nil, errors.Errorf("batch: example %d (lengths %d, %d) is longer than the largest bucket (%d, %d)",
				i, sl, tl, cfg.SrcBounds[len(cfg.SrcBounds)-1], cfg.TgtBounds[len(cfg.TgtBounds)-1])
		}
		if cfg.Joint {
			si = max(si, ti)
			ti = si
		}
		s := Shape{cfg.SrcBounds[si], cfg.TgtBounds[ti]}
		byShape[s] = append(byShape[s], i)
		b.n++
	}
	for s := range byShape {
		b.shapes = append(b.shapes, s)
	}
	sort.Slice(b.shapes, func(i, j int) bool {
		if b.shapes[i].Src != b.shapes[j].Src {
			return b.shapes[i].Src < b.shapes[j].Src
		}
		return b.shapes[i].Tgt < b.shapes[j].Tgt
	})
	for _, s := range b.shapes {
		b.members = append(b.members, byShape[s])
	}
	return b, nil
}

// Shapes returns the shapes of the non-empty buckets, ordered by source then
// target length.
func (b *Bucketer) Shapes() []Shape { return append([]Shape(nil), b.shapes...) }

// Skipped returns the examples left out for being too long (DropTooLong).
func (b *Bucketer) Skipped() []int { return append([]int(nil), b.skipped...) }

// Len returns the number of examples in the buckets (all but the skipped ones).
func (b *Bucketer) Len() int { return b.n }

// BatchSize returns the number of rows of every batch.
func (b *Bucketer) BatchSize() int { return b.batchSize }

// NumBatches returns the number of batches of every epoch.
func (b *Bucketer) NumBatches() int {
	n := 0
	for _, m := range b.members {
		n += (len(m) + b.batchSize - 1) / b.batchSize
	}
	return n
}

// Epoch returns one epoch of batches: the examples of each bucket are shuffled
// and cut into batches of BatchSize (the last one of a bucket may be shorter),
// and the batches of all buckets are shuffled together. Every bucketed example
// is in exactly one batch. The result depends only on rng's state (see Perm):
// rand.New(rand.NewPCG(seed, uint64(epoch))) gives each epoch its own
// reproducible order.
func (b *Bucketer) Epoch(rng *rand.Rand) []Batch {
	out := make([]Batch, 0, b.NumBatches())
	for k, m := range b.members {
		idx := append([]int(nil), m...)
		Shuffle(rng, len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for i := 0; i < len(idx); i += b.batchSize {
			end := min(i+b.batchSize, len(idx))
			out = append(out, Batch{Shape: b.shapes[k], Indices: idx[i:end:end]})
		}
	}
	Shuffle(rng, len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Steps gives the batch of each training step of an epoch-based run: the
// batches of epoch e are Epoch drawn from the stream "shuffle/e" of seed
// (graph.NewRNG), so a step's batch is a function of the seed and the step
// alone and a resumed run sees the batches of the uninterrupted one.
type Steps struct {
	b       *Bucketer
	seed    uint64
	epoch   int
	batches []Batch
}

// Steps returns the step-by-step batches of b for seed.
func (b *Bucketer) Steps(seed uint64) *Steps { return &Steps{b: b, seed: seed, epoch: -1} }

// At returns the batch of training step step (counted from 0).
func (s *Steps) At(step int) Batch {
	n := s.b.NumBatches()
	if epoch := step / n; epoch != s.epoch {
		s.batches = s.b.Epoch(graph.NewRNG(s.seed, "shuffle/"+strconv.Itoa(epoch)))
		s.epoch = epoch
	}
	return s.batches[step%n]
}
