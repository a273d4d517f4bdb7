package translate

import (
	"fmt"
	"strings"

	"github.com/triadml/triad/metrics/report"
)

// samples is the first n validation sentences of an evaluation: each source
// with its reference and its greedy (and beam) translation, the page the run's
// TensorBoard text shows under "samples".
func (t *task) samples(ev *evaluation, n int) report.SamplesPage {
	page := report.SamplesPage{Title: fmt.Sprintf("Validation translations (%s, %s->%s)", t.cfg.Model, t.cfg.Src, t.cfg.Tgt)}
	for i := 0; i < min(n, len(ev.greedy), len(t.valRefs), len(t.valSrcToks)); i++ {
		s := report.Sample{Input: report.Labelled{Label: "source", Text: strings.Join(t.valSrcToks[i], " ")},
			Outputs: []report.Labelled{{Label: "reference", Text: t.valRefs[i]}, {Label: "greedy", Text: ev.greedy[i]}}}
		if i < len(ev.beam) {
			s.Outputs = append(s.Outputs, report.Labelled{Label: fmt.Sprintf("beam %d", ev.beamSize), Text: ev.beam[i]})
		}
		page.Samples = append(page.Samples, s)
	}
	return page
}
