package metrics

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// ConfusionMatrix counts classification outcomes: Counts[t][p] is the number
// of examples of true class t predicted as class p. Precision, recall and F1
// of a class with an empty denominator are 0 (scikit-learn's zero_division=0).
type ConfusionMatrix struct {
	// Labels names the classes for String; it may be nil.
	Labels []string
	// Counts is the K x K table, rows true classes and columns predictions.
	Counts [][]int
}

// ClassStats are one class's figures in a ConfusionMatrix.
type ClassStats struct {
	// Precision is the fraction of predictions of this class that are right.
	Precision float64
	// Recall is the fraction of this class's examples predicted as it.
	Recall float64
	// F1 is the harmonic mean of Precision and Recall.
	F1 float64
	// Support is the number of examples whose true class this is.
	Support int
}

// NewConfusionMatrix returns an empty matrix for classes 0..k-1. labels, if
// given, must name all k classes.
func NewConfusionMatrix(k int, labels ...string) (*ConfusionMatrix, error) {
	if k <= 0 {
		return nil, errors.Errorf("confusion matrix: %d classes", k)
	}
	if len(labels) != 0 && len(labels) != k {
		return nil, errors.Errorf("confusion matrix: %d labels for %d classes", len(labels), k)
	}
	c := &ConfusionMatrix{Counts: make([][]int, k)}
	if len(labels) != 0 {
		c.Labels = append([]string(nil), labels...)
	}
	for i := range c.Counts {
		c.Counts[i] = make([]int, k)
	}
	return c, nil
}

// NumClasses returns K.
func (c *ConfusionMatrix) NumClasses() int { return len(c.Counts) }

// Add counts one example of true class truth predicted as pred.
func (c *ConfusionMatrix) Add(truth, pred int) error {
	k := len(c.Counts)
	if truth < 0 || truth >= k || pred < 0 || pred >= k {
		return errors.Errorf("confusion matrix: class pair (%d, %d) outside 0..%d", truth, pred, k-1)
	}
	c.Counts[truth][pred]++
	return nil
}

// AddBatch counts truth[i] predicted as pred[i] for every i; on an error
// nothing is counted.
func (c *ConfusionMatrix) AddBatch(truth, pred []int) error {
	if len(truth) != len(pred) {
		return errors.Errorf("confusion matrix: %d labels for %d predictions", len(truth), len(pred))
	}
	k := len(c.Counts)
	for i := range truth {
		if truth[i] < 0 || truth[i] >= k || pred[i] < 0 || pred[i] >= k {
			return errors.Errorf("confusion matrix: example %d has class pair (%d, %d) outside 0..%d", i, truth[i], pred[i], k-1)
		}
	}
	for i := range truth {
		c.Counts[truth[i]][pred[i]]++
	}
	return nil
}

// Total returns the number of examples counted.
func (c *ConfusionMatrix) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, x := range row {
			n += x
		}
	}
	return n
}

// Accuracy returns the trace over the total, or 0 for an empty matrix.
func (c *ConfusionMatrix) Accuracy() float64 {
	n, hits := 0, 0
	for i, row := range c.Counts {
		for j, x := range row {
			n += x
			if i == j {
				hits += x
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hits) / float64(n)
}

// Class returns precision, recall, F1 and support of class k (which must be
// in range).
func (c *ConfusionMatrix) Class(k int) ClassStats {
	tp := c.Counts[k][k]
	predicted, support := 0, 0
	for i := range c.Counts {
		predicted += c.Counts[i][k]
		support += c.Counts[k][i]
	}
	var s ClassStats
	s.Support = support
	if predicted > 0 {
		s.Precision = float64(tp) / float64(predicted)
	}
	if support > 0 {
		s.Recall = float64(tp) / float64(support)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	return s
}

// Classes returns Class(k) for every class.
func (c *ConfusionMatrix) Classes() []ClassStats {
	out := make([]ClassStats, len(c.Counts))
	for k := range out {
		out[k] = c.Class(k)
	}
	return out
}

// MacroF1 returns the unweighted mean of the per-class F1 scores.
func (c *ConfusionMatrix) MacroF1() float64 {
	sum := 0.0
	for _, s := range c.Classes() {
		sum += s.F1
	}
	return sum / float64(len(c.Counts))
}

// label returns the display name of class k.
func (c *ConfusionMatrix) label(k int) string {
	if k < len(c.Labels) && c.Labels[k] != "" {
		return c.Labels[k]
	}
	return fmt.Sprint(k)
}

// String renders the table (rows true classes, columns predictions), then
// one line per class with precision, recall, F1 and support, then accuracy
// and macro F1.
func (c *ConfusionMatrix) String() string {
	k := len(c.Counts)
	width := len("true\\pred")
	for i := range k {
		width = max(width, len(c.label(i)))
		for _, x := range c.Counts[i] {
			width = max(width, len(fmt.Sprint(x)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", width, "true\\pred")
	for j := range k {
		fmt.Fprintf(&b, " %*s", width, c.label(j))
	}
	b.WriteByte('\n')
	for i := range k {
		fmt.Fprintf(&b, "%-*s", width, c.label(i))
		for _, x := range c.Counts[i] {
			fmt.Fprintf(&b, " %*d", width, x)
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%-*s %9s %9s %9s %9s\n", width, "class", "precision", "recall", "f1", "support")
	for i, s := range c.Classes() {
		fmt.Fprintf(&b, "%-*s %9.4f %9.4f %9.4f %9d\n", width, c.label(i), s.Precision, s.Recall, s.F1, s.Support)
	}
	fmt.Fprintf(&b, "accuracy %.4f (%d examples), macro F1 %.4f\n", c.Accuracy(), c.Total(), c.MacroF1())
	return b.String()
}
