package report

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/atomicfile"
)

// SamplesPage is a Markdown page of examples: each input, then the reference
// and the outputs of the systems compared on it, so a reader sees what the
// scores mean.
type SamplesPage struct {
	// Title is the page's heading.
	Title string
	// Notes are the paragraphs under the heading (Markdown, written as given).
	Notes []string
	// Samples are the examples, numbered from 1.
	Samples []Sample
}

// Sample is one example: its input and the texts shown under it, in order.
type Sample struct {
	Input   Labelled
	Outputs []Labelled
}

// Labelled is a text and the label it is shown under ("reference", "beam 4").
type Labelled struct {
	Label, Text string
}

// Markdown returns the page: the title as a heading, the notes as paragraphs and
// the samples as a numbered list, each input with its outputs as bullets under
// it ("1. **article:** ..." then "   - **reference:** ..."). Labels are
// written as given, texts through Escape.
func (p SamplesPage) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", p.Title)
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "%s\n\n", n)
	}
	for i, s := range p.Samples {
		fmt.Fprintf(&b, "%d. **%s:** %s\n", i+1, s.Input.Label, Escape(s.Input.Text))
		for _, o := range s.Outputs {
			fmt.Fprintf(&b, "   - **%s:** %s\n", o.Label, Escape(o.Text))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// WriteFile writes the page's Markdown to path.
func (p SamplesPage) WriteFile(path string) error {
	return errors.Wrap(atomicfile.WriteFile(path, []byte(p.Markdown()), 0o644), "report: samples")
}

// markdownEscaper escapes what Markdown reads as markup inside a line.
var markdownEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)

// Escape keeps Markdown from reading a text's punctuation as markup: emphasis,
// code, links and HTML. A '#' inside a line is plain text and stays as it is.
func Escape(s string) string { return markdownEscaper.Replace(s) }
