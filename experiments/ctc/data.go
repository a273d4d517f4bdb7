package ctc

import (
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
)

// aheadBatch is a batch drawn ahead of its step.
type aheadBatch struct {
	step int
	us   []audio.Utterance
	T    int
	err  error
}

// digitCount draws a number of digits uniformly.
func (t *task) digitCount(rng *rand.Rand) int {
	return t.cfg.MinDigits + rng.IntN(t.cfg.MaxDigits-t.cfg.MinDigits+1)
}

// maxFrames returns the largest bucket: no utterance drawn is longer.
func (t *task) maxFrames() int { return t.buckets[len(t.buckets)-1] }

// makeTestSet draws the test utterances from the test takes with TestSeed,
// sorts them by length and cuts them into evaluation batches.
func (t *task) makeTestSet() error {
	rng := graph.NewRNG(t.cfg.TestSeed, "ctc/test")
	raws := make([]audio.RawUtterance, t.cfg.EvalSize)
	for i := range raws {
		u, err := t.gen.DrawFitting(rng, "test", t.digitCount(rng), t.maxFrames())
		if err != nil {
			return err
		}
		raws[i] = u
	}
	sort.SliceStable(raws, func(i, j int) bool { return len(raws[i].Wave) < len(raws[j].Wave) })
	for lo := 0; lo < len(raws); lo += t.cfg.EvalBatch {
		batch := raws[lo:min(lo+t.cfg.EvalBatch, len(raws))]
		T := t.bucket(t.gen.Frames(len(batch[len(batch)-1].Wave)))
		var us []audio.Utterance
		for i, r := range batch {
			u, err := t.gen.Features(r, t.padTo(T), graph.NewRNG(t.cfg.TestSeed, "ctc/test/pad/"+strconv.Itoa(lo+i)))
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		t.test = append(t.test, us)
	}
	return nil
}

// testCount returns the number of test utterances and of their digits.
func (t *task) testCount() (utts, digits int) {
	for _, batch := range t.test {
		for _, u := range batch {
			utts++
			digits += len(u.Digits)
		}
	}
	return utts, digits
}

// trainBatch returns the utterances of a step and their bucket: a function of
// the seed and the step only. The step draws one digit count, uniformly, for
// all its utterances, so that they have similar lengths and share a bucket
// with little padding; digit counts are uniform over the steps.
func (t *task) trainBatch(gen *audio.Utterances, step int) ([]audio.Utterance, int, error) {
	rng := graph.NewRNG(t.cfg.Seed, "ctc/train/"+strconv.Itoa(step))
	n := t.digitCount(rng)
	raws := make([]audio.RawUtterance, t.cfg.Batch)
	longest := 0
	for i := range raws {
		u, err := gen.DrawFitting(rng, "train", n, t.maxFrames())
		if err != nil {
			return nil, 0, err
		}
		raws[i] = u
		longest = max(longest, gen.Frames(len(u.Wave)))
	}
	T := t.bucket(longest)
	us := make([]audio.Utterance, len(raws))
	for i, r := range raws {
		u, err := gen.Features(r, t.padTo(T), rng)
		if err != nil {
			return nil, 0, err
		}
		us[i] = u
	}
	return us, T, nil
}

// batch returns the batch of step, drawn ahead if it was, and starts drawing
// the next one with a generator of its own while the step runs. The result is
// the same either way.
func (t *task) batch(step int) ([]audio.Utterance, int, error) {
	var b aheadBatch
	found := false
	if t.nextStep >= 0 {
		b = <-t.next
		t.nextStep = -1
		found = b.step == step
	}
	if !found {
		b.us, b.T, b.err = t.trainBatch(t.gen, step)
	}
	t.nextStep = step + 1
	go func(s int) {
		us, T, err := t.trainBatch(t.ahead, s)
		t.next <- aheadBatch{step: s, us: us, T: T, err: err}
	}(step + 1)
	return b.us, b.T, b.err
}
