package report

import (
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
