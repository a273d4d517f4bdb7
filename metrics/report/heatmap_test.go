package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHeatmapPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attn.png")
	w := [][]float64{{0.9, 0.1, 0, 0}, {0, 0.2, 0.8, 0}, {0, 0, 0.5, 0.5}}
	require.NoError(t, Heatmap(path, w, []string{"a", " ", "é", "9"}, []string{"x", "y", "</s>"}, "test"))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 50)
	require.ErrorContains(t, Heatmap(path, w, []string{"a"}, []string{"x"}, ""), "rows of weights")
	require.Len(t, Blues(64).Colors(), 64)
}

func TestHeatmapSizedToTheSentence(t *testing.T) {
	src := []string{"the", "international", "committee", "met", "on", "tuesday", "."}
	out := []string{"le", "comité", "international", "s'est", "réuni", "mardi", ".", "</s>"}
	w := make([][]float64, len(out))
	for i := range w {
		w[i] = make([]float64, len(src)+2) // two padding columns
		w[i][min(i, len(src)-1)] = 1
	}
	b, err := HeatmapPNG(w, src, out, "line 2")
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	// Square cells of 20 points: the plot area grows with the sentence, and
	// the rotated words add height, not width.
	require.Greater(t, img.Bounds().Dx(), len(src)*20*96/72)
	require.Greater(t, img.Bounds().Dy(), len(out)*20*96/72)
	require.Equal(t, "line 2: the international committee met on tuesday . → le comité international s'est réuni mardi . </s>", heatmapTitle("line 2", src, out))
	require.Equal(t, "28/11 → 2026-11-28", heatmapTitle("", []string{"2", "8", "/", "1", "1"}, []string{"2026-11-28"}))
	longer, err := HeatmapPNG(append(w, w...), src, append(out, out...), "")
	require.NoError(t, err)
	img2, err := png.Decode(bytes.NewReader(longer))
	require.NoError(t, err)
	require.Greater(t, img2.Bounds().Dy(), img.Bounds().Dy(), "a longer output is a taller image")
	if dir := os.Getenv("TRIAD_PLOT_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "heatmap_words.png"), b, 0o644))
		chars := []string{"2", "8", "/", "1", "1", "/", "2", "0", "2", "6"}
		outc := []string{"2", "0", "2", "6", "-", "1", "1", "-", "2", "8", "</s>"}
		wc := make([][]float64, len(outc))
		for i := range wc {
			wc[i] = make([]float64, len(chars))
			wc[i][(i*3)%len(chars)], wc[i][(i*7+1)%len(chars)] = 0.7, 0.3
		}
		require.NoError(t, Heatmap(filepath.Join(dir, "heatmap_chars.png"), wc, chars, outc, ""))
	}
}
