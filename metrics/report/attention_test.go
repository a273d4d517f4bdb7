package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAttentionPage(t *testing.T) {
	page := AttentionPage{
		Title:  "a <test> page",
		Legend: "Label: truth → prediction.",
		Texts: []AttentionText{
			{Caption: "✓ good → good (0.900)", Tokens: []string{"a", "<b>", "c"}, Weights: []float64{0.1, 0.4, 0.2}},
			{Caption: "no weights", Tokens: []string{"x", "y"}},
		},
	}
	var sb strings.Builder
	require.NoError(t, page.WriteHTML(&sb))
	got := sb.String()
	require.True(t, strings.HasPrefix(got, "<!DOCTYPE html>\n"))
	require.True(t, strings.HasSuffix(got, "</body></html>\n"))
	require.Contains(t, got, "<title>a &lt;test&gt; page</title>")
	require.Contains(t, got, "hover over a token for its weight. Label: truth → prediction.</p>")
	require.Contains(t, got, `<span class="m">✓ good → good (0.900)</span><br>`)
	// shades are relative to the text's largest weight, which is fully shaded
	require.Contains(t, got, `title="0.4000" style="background:rgba(214,39,40,1.000)">&lt;b&gt;</span> `)
	require.Contains(t, got, `title="0.1000" style="background:rgba(214,39,40,0.250)">a</span> `)
	// a text without weights is drawn unshaded rather than divided by zero
	require.Contains(t, got, `title="0.0000" style="background:rgba(214,39,40,0.000)">y</span> `)
	require.Equal(t, 2, strings.Count(got, `<div class="s">`))
}

func TestAttentionPageChars(t *testing.T) {
	page := AttentionPage{Title: "chars", Chars: true,
		Texts: []AttentionText{{Tokens: []string{"a", " ", "b"}, Weights: []float64{1, 0.5, 0}}}}
	path := filepath.Join(t.TempDir(), "attention.html")
	require.NoError(t, page.WriteFile(path))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	got := string(raw)
	require.Contains(t, got, `rgba(214,39,40,1.000)">a</span><span`, "characters are not separated")
	require.Contains(t, got, `rgba(214,39,40,0.500)">&nbsp;</span>`, "a space keeps a visible box")
	require.Error(t, page.WriteFile(filepath.Join(t.TempDir(), "missing", "attention.html")))
}
