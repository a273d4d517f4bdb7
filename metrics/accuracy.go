package metrics

import (
	"math"

	"github.com/pkg/errors"
)

// Accuracy returns the fraction of positions where pred equals truth.
func Accuracy[T comparable](pred, truth []T) (float64, error) {
	if len(pred) != len(truth) {
		return 0, errors.Errorf("accuracy: %d predictions for %d labels", len(pred), len(truth))
	}
	if len(truth) == 0 {
		return 0, errors.New("accuracy: no labels")
	}
	hits := 0
	for i := range truth {
		if pred[i] == truth[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(truth)), nil
}

// Argmax returns the index of the largest value of row, the first one on a
// tie (as torch.argmax and numpy.argmax do). A NaN anywhere or an empty row
// is an error.
func Argmax[F float32 | float64](row []F) (int, error) {
	if len(row) == 0 {
		return 0, errors.New("argmax: empty row")
	}
	best := 0
	for i, x := range row {
		if math.IsNaN(float64(x)) {
			return 0, errors.Errorf("argmax: NaN at index %d", i)
		}
		if x > row[best] {
			best = i
		}
	}
	return best, nil
}

// ArgmaxRows returns the Argmax of every row.
func ArgmaxRows[F float32 | float64](rows [][]F) ([]int, error) {
	out := make([]int, len(rows))
	for i, r := range rows {
		k, err := Argmax(r)
		if err != nil {
			return nil, errors.Wrapf(err, "row %d", i)
		}
		out[i] = k
	}
	return out, nil
}

// AccuracyFromLogits returns the fraction of rows whose Argmax equals the
// label. Rows may hold logits, probabilities or log-probabilities: only their
// order matters. Every row must have the same positive width.
func AccuracyFromLogits[F float32 | float64](rows [][]F, labels []int) (float64, error) {
	if len(rows) != len(labels) {
		return 0, errors.Errorf("accuracy from logits: %d rows for %d labels", len(rows), len(labels))
	}
	if len(rows) > 0 {
		w := len(rows[0])
		for i, r := range rows {
			if len(r) != w {
				return 0, errors.Errorf("accuracy from logits: row %d has %d classes, row 0 has %d", i, len(r), w)
			}
		}
	}
	pred, err := ArgmaxRows(rows)
	if err != nil {
		return 0, errors.Wrap(err, "accuracy from logits")
	}
	return Accuracy(pred, labels)
}

// AccuracyFromFlatLogits is AccuracyFromLogits on a row-major (N, classes)
// buffer such as a tensor's backing slice.
func AccuracyFromFlatLogits[F float32 | float64](logits []F, classes int, labels []int) (float64, error) {
	if classes <= 0 {
		return 0, errors.Errorf("accuracy from logits: %d classes", classes)
	}
	if len(logits) != classes*len(labels) {
		return 0, errors.Errorf("accuracy from logits: %d values for %d labels of %d classes",
			len(logits), len(labels), classes)
	}
	rows := make([][]F, len(labels))
	for i := range rows {
		rows[i] = logits[i*classes : (i+1)*classes]
	}
	return AccuracyFromLogits(rows, labels)
}

// Perplexity returns exp(meanNLL), the perplexity of a model whose mean
// negative log-likelihood per token is meanNLL nats. meanNLL must be a
// finite, non-negative number; a model that assigns probability 0 to a token
// (infinite NLL) is reported as an error rather than +Inf.
func Perplexity(meanNLL float64) (float64, error) {
	if math.IsNaN(meanNLL) || math.IsInf(meanNLL, 0) {
		return 0, errors.Errorf("perplexity: mean NLL is %v", meanNLL)
	}
	if meanNLL < 0 {
		return 0, errors.Errorf("perplexity: mean NLL %v is negative", meanNLL)
	}
	return math.Exp(meanNLL), nil
}

// PerplexityFromSum returns exp(totalNLL/tokens), for a summed negative
// log-likelihood in nats over a number of tokens.
func PerplexityFromSum(totalNLL float64, tokens int) (float64, error) {
	if tokens <= 0 {
		return 0, errors.Errorf("perplexity: %d tokens", tokens)
	}
	return Perplexity(totalNLL / float64(tokens))
}
