package classify

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/metrics/report"
	"github.com/triadml/triad/train"
)

// writeConfusion writes confusion.txt (the table with per-class figures) and
// confusion.json in dir.
func writeConfusion(dir string, cm *metrics.ConfusionMatrix) error {
	if err := os.WriteFile(filepath.Join(dir, "confusion.txt"), []byte(cm.String()+"\n"), 0o644); err != nil {
		return errors.Wrap(err, "classify")
	}
	type class struct {
		Label     string  `json:"label"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
		Support   int     `json:"support"`
	}
	var classes []class
	for k, c := range cm.Classes() {
		classes = append(classes, class{Label: cm.Labels[k], Precision: c.Precision, Recall: c.Recall, F1: c.F1, Support: c.Support})
	}
	return train.WriteJSON(filepath.Join(dir, "confusion.json"), map[string]any{
		"labels": cm.Labels, "counts": cm.Counts, "accuracy": cm.Accuracy(), "macro_f1": cm.MacroF1(), "classes": classes,
		"note": "counts[t][p]: sentences of true class t predicted as p",
	})
}

// writeAttention writes the attention page of the shown sentences at path,
// each captioned with a mark for a right or wrong prediction, the true and the
// predicted label and the prediction's probability.
func writeAttention(path, title, level string, rows []ShownText) error {
	page := report.AttentionPage{Title: title, Chars: level == "char", Legend: "Label: truth → prediction (probability)."}
	for _, r := range rows {
		mark := "✓"
		if r.Truth != r.Pred {
			mark = "✗"
		}
		page.Texts = append(page.Texts, report.AttentionText{Caption: fmt.Sprintf("%s %s → %s (%.3f)", mark, r.Truth, r.Pred, r.Prob),
			Tokens: r.Tokens, Weights: r.Weights})
	}
	return errors.Wrap(page.WriteFile(path), "classify")
}
