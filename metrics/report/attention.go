package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"

	"github.com/pkg/errors"
)

// AttentionText is one text of an attention page: its tokens, a weight for
// each, and a caption shown above them.
type AttentionText struct {
	// Caption is a line of plain text above the tokens, such as the true and
	// predicted labels.
	Caption string
	// Tokens are the text's tokens in order.
	Tokens []string
	// Weights holds a weight for each token; a token without one weighs 0.
	Weights []float64
}

// AttentionPage is an HTML page of texts whose tokens are shaded by their
// weights (darker is more), each relative to its text's largest weight, so that
// a page shows where a model looked whatever the texts' lengths.
type AttentionPage struct {
	// Title heads the page.
	Title string
	// Legend, plain text, follows the page's note on the shading; it says what
	// the captions mean.
	Legend string
	// Chars marks character-level texts: tokens are joined without spaces, and a
	// space token shows as a non-breaking space so that its shade stays visible.
	Chars bool
	// Texts are the texts in the order shown.
	Texts []AttentionText
}

// WriteHTML writes the page to w.
func (p AttentionPage) WriteHTML(w io.Writer) error {
	var sb strings.Builder
	sb.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(p.Title) + "</title>\n")
	sb.WriteString("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}div.s{margin:0.8em 0;line-height:1.9}" +
		"span.t{padding:0.1em 0.15em;border-radius:0.2em}span.m{color:#555;font-size:85%}</style></head><body>\n")
	sb.WriteString("<h1>" + html.EscapeString(p.Title) + "</h1>\n<p>Each token is shaded by its attention weight, relative to the " +
		"text's largest weight; hover over a token for its weight.")
	if p.Legend != "" {
		sb.WriteString(" " + html.EscapeString(p.Legend))
	}
	sb.WriteString("</p>\n")
	sep := " "
	if p.Chars {
		sep = ""
	}
	for _, t := range p.Texts {
		peak := 0.0
		for _, w := range t.Weights {
			peak = math.Max(peak, w)
		}
		fmt.Fprintf(&sb, "<div class=\"s\"><span class=\"m\">%s</span><br>", html.EscapeString(t.Caption))
		for i, tok := range t.Tokens {
			w := 0.0
			if i < len(t.Weights) {
				w = t.Weights[i]
			}
			alpha := 0.0
			if peak > 0 {
				alpha = w / peak
			}
			text := html.EscapeString(tok)
			if p.Chars && tok == " " {
				text = "&nbsp;"
			}
			fmt.Fprintf(&sb, "<span class=\"t\" title=\"%.4f\" style=\"background:rgba(214,39,40,%.3f)\">%s</span>%s", w, alpha, text, sep)
		}
		sb.WriteString("</div>\n")
	}
	sb.WriteString("</body></html>\n")
	_, err := io.WriteString(w, sb.String())
	return errors.Wrap(err, "attention page")
}

// WriteFile writes the page to the file at path.
func (p AttentionPage) WriteFile(path string) error {
	var sb strings.Builder
	if err := p.WriteHTML(&sb); err != nil {
		return err
	}
	return errors.Wrap(os.WriteFile(path, []byte(sb.String()), 0o644), "attention page")
}
