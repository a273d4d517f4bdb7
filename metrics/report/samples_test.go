package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSamplesPage(t *testing.T) {
	p := SamplesPage{
		Title: "Sample headlines: attention",
		Notes: []string{"Pairs spread over the set.", "Decoding: greedy."},
		Samples: []Sample{
			{Input: Labelled{"article", "a *b* [c] <d> x_y `z` \\ # 1"}, Outputs: []Labelled{{"reference", "r"}, {"lead-2", "a *b*"}}},
			{Input: Labelled{"article", "two"}},
		},
	}
	want := "# Sample headlines: attention\n\nPairs spread over the set.\n\nDecoding: greedy.\n\n" +
		"1. **article:** a \\*b\\* \\[c\\] &lt;d&gt; x\\_y \\`z\\` \\\\ # 1\n   - **reference:** r\n   - **lead-2:** a \\*b\\*\n\n" +
		"2. **article:** two\n\n"
	require.Equal(t, want, p.Markdown())
	path := filepath.Join(t.TempDir(), "samples.md")
	require.NoError(t, p.WriteFile(path))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(got))
	require.Error(t, p.WriteFile(filepath.Join(t.TempDir(), "missing", "samples.md")))
	require.Equal(t, "# Empty\n\n", SamplesPage{Title: "Empty"}.Markdown())
}

func TestEscape(t *testing.T) {
	require.Equal(t, "plain text, with #s and 'quotes'", Escape("plain text, with #s and 'quotes'"))
	require.Equal(t, `\\\*\_`, Escape(`\*_`))
}
