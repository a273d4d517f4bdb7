package classify

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	classifier "github.com/triadml/triad/models/classify"
)

// evaluation is the outcome of one pass over the validation sentences.
type evaluation struct {
	loss  float64
	cm    *metrics.ConfusionMatrix
	shown []shownRow
}

// shownRow is a validation sentence kept for the attention page: the ids the
// model saw and their weights.
type shownRow struct {
	ids         []int
	weights     []float64
	truth, pred int
	prob        float64
}

// bucketOf returns the padded length of the bucket of a sentence the model sees
// as n positions: the first bound that holds it, else the last (which cuts it).
func (t *task) bucketOf(n int) int {
	for _, bound := range t.bounds {
		if n <= bound {
			return bound
		}
	}
	return t.bounds[len(t.bounds)-1]
}

// evaluate runs the validation sentences, grouped by bucket in their order, and
// keeps the attention weights of show sentences spread evenly over the set.
func (t *task) evaluate(show int) (*evaluation, error) {
	n := len(t.data.val)
	show = min(show, n)
	picked := map[int]bool{}
	for i := 0; i < show; i++ {
		picked[i*n/show] = true
	}
	cm, err := metrics.NewConfusionMatrix(len(t.data.labels), t.data.labels...)
	if err != nil {
		return nil, err
	}
	groups := map[int][]int{}
	for i, s := range t.data.val {
		b := t.bucketOf(t.seen(s))
		groups[b] = append(groups[b], i)
	}
	ev := &evaluation{cm: cm}
	shown := map[int]shownRow{}
	var sum float64
	for _, bound := range t.bounds {
		idx := groups[bound]
		if len(idx) == 0 {
			continue
		}
		prog, err := t.evals.Get(bound)
		if err != nil {
			return nil, err
		}
		for lo := 0; lo < len(idx); lo += t.cfg.Batch {
			chunk := idx[lo:min(lo+t.cfg.Batch, len(idx))]
			seqs := make([][]int, len(chunk))
			ys := make([]int, len(chunk))
			for i, j := range chunk {
				seqs[i], ys[i] = t.data.val[j], t.data.valY[j]
			}
			lengths, err := prog.Feed(seqs, ys)
			if err != nil {
				return nil, err
			}
			if err := prog.Run(); err != nil {
				return nil, err
			}
			out, err := prog.Output("loss")
			if err != nil {
				return nil, err
			}
			sum += graph.Scalar(out) * float64(len(chunk))
			logits, err := prog.Logits()
			if err != nil {
				return nil, err
			}
			var weights [][]float64
			for i, j := range chunk {
				probs := classifier.Softmax(logits[i])
				pred, err := metrics.Argmax(probs)
				if err != nil {
					return nil, errors.Wrapf(err, "validation sentence %d", j)
				}
				if err := cm.Add(ys[i], pred); err != nil {
					return nil, err
				}
				if picked[j] {
					if weights == nil {
						if weights, err = prog.Weights(); err != nil {
							return nil, err
						}
					}
					shown[j] = shownRow{ids: t.model.Prepare(seqs[i], bound), weights: append([]float64(nil), weights[i][:lengths[i]]...),
						truth: ys[i], pred: pred, prob: probs[pred]}
				}
			}
		}
	}
	ev.loss = sum / float64(len(t.data.val))
	for i := 0; i < show; i++ {
		ev.shown = append(ev.shown, shown[i*n/show])
	}
	return ev, nil
}
