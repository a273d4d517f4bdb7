package gpt

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	mgpt "github.com/triadml/triad/models/gpt"
	"github.com/triadml/triad/train"
)

// SplitLoss is the mean next-token loss over every token of a text, not over a
// sample of its windows.
type SplitLoss struct {
	// Loss is the mean cross-entropy in nats per predicted token.
	Loss float64 `json:"loss"`
	// Tokens is the number of tokens predicted: all but the first.
	Tokens int `json:"tokens"`
}

// String is the loss and its token count in one line.
func (l SplitLoss) String() string {
	return fmt.Sprintf("%.4f nats/token over %d tokens", l.Loss, l.Tokens)
}

// splitLoss scores every token of ids after the first exactly once. The text is
// cut into consecutive windows of block tokens, each token predicted from the
// tokens before it in its own window: the strided evaluation with a stride of a
// whole block (Hugging Face's guide "Perplexity of fixed-length models"), whose
// tokens see block/2 tokens of context on average, against the random windows'
// full context for their last token. Windows go rows at a time through one
// evaluation program; the last window and the rows after it are padded with
// targets that take no part in the loss.
func splitLoss(m *mgpt.Model, s *graph.Store, ids []int, rows, block int) (SplitLoss, error) {
	n := len(ids) - 1
	if n < 1 {
		return SplitLoss{}, errors.New("gpt: a text of fewer than 2 tokens has nothing to predict")
	}
	p, err := m.Build(s, graph.Eval, rows, block)
	if err != nil {
		return SplitLoss{}, err
	}
	defer p.Close()
	x, y := make([][]int, rows), make([][]int, rows)
	for i := range x {
		x[i], y[i] = make([]int, block), make([]int, block)
	}
	sum := 0.0
	for at := 0; at < n; {
		count := 0
		for r := range rows {
			for j := range block {
				x[r][j], y[r][j] = 0, mgpt.IgnoreIndex
				if at+j < n {
					x[r][j], y[r][j] = ids[at+j], ids[at+j+1]
					count++
				}
			}
			at = min(n, at+block)
		}
		if err := p.Feed(x, y); err != nil {
			return SplitLoss{}, err
		}
		if err := p.Run(); err != nil {
			return SplitLoss{}, err
		}
		loss, err := p.Output("loss")
		if err != nil {
			return SplitLoss{}, err
		}
		sum += graph.Scalar(loss) * float64(count)
	}
	return SplitLoss{Loss: sum / float64(n), Tokens: n}, nil
}

// ValidationLoss is the mean loss over the whole validation part of the run's
// text (the part after TrainFrac of its characters), read again from the run's
// DataDir, in batches of the run's Batch windows of its Block tokens. A text
// that is no longer there, or no longer encodes with the run's characters, is
// a train.Usage error.
func (m *Model) ValidationLoss() (SplitLoss, error) {
	_, val, err := train.SplitText(m.Config.DataDir, m.Config.TrainFrac)
	if err != nil {
		return SplitLoss{}, train.Usage(err)
	}
	return m.Loss(val)
}

// Loss is the mean next-token loss over every token of text (see
// ValidationLoss). A text with characters outside the run's vocabulary is a
// train.Usage error.
func (m *Model) Loss(text string) (SplitLoss, error) {
	ids, err := m.tok.encode(text)
	if err != nil {
		return SplitLoss{}, train.Usage(err)
	}
	return splitLoss(m.model, m.store, ids, m.Config.Batch, m.Config.Block)
}
