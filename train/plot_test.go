package train

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCurvePanelsByKind(t *testing.T) {
	points := []Point{
		{Step: 10, Split: "train", Metrics: map[string]float64{"loss": 2, "lr": 1e-3}},
		{Step: 10, Split: "val", Metrics: map[string]float64{"val_loss": 2.5, "val_acc": 0.5, "val_bleu": 12, "val_words": 300}},
		{Step: 20, Split: "train", Metrics: map[string]float64{"loss": 1, "lr": 1e-3}},
		{Step: 20, Split: "val", Metrics: map[string]float64{"val_loss": 1.5, "val_acc": 0.75, "val_bleu": 20, "val_words": 310}},
	}
	order, panels := curvePanels(points)
	// A constant learning rate and a count are left out; losses share a
	// panel, apart from accuracy (in percent) and BLEU.
	require.Equal(t, []metricKind{kindLoss, kindAcc, kindBLEU}, order)
	require.Len(t, panels[kindLoss], 2)
	require.Equal(t, "train loss", panels[kindLoss][0].name)
	require.Equal(t, "val_loss", panels[kindLoss][1].name)
	require.Equal(t, 75.0, panels[kindAcc][0].pts[1].Y)
	require.Equal(t, 20.0, panels[kindBLEU][0].pts[1].Y)

	points[2].Metrics["lr"] = 5e-4
	order, _ = curvePanels(points)
	require.Equal(t, kindLR, order[len(order)-1], "a changing learning rate has its panel")
}

func TestLearningCurvePNG(t *testing.T) {
	// A single point is drawn (as a marker), in a frame around it.
	one := []Point{{Step: 30, Split: "train", Metrics: map[string]float64{"loss": 1.2}}}
	b, err := learningCurvePNG(one, "")
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, 576, img.Bounds().Dx(), "6 inches at 96 dpi")
	// Three panels: two columns.
	var pts []Point
	for s := 1; s <= 5; s++ {
		pts = append(pts, Point{Step: s * 6, Split: "train", Metrics: map[string]float64{"loss": 3 / float64(s)}},
			Point{Step: s * 6, Split: "val", Metrics: map[string]float64{"val_loss": 3.5 / float64(s), "val_rouge1": 0.1 * float64(s), "val_exact": 0.2}})
	}
	b, err = learningCurvePNG(pts, "summarize run")
	require.NoError(t, err)
	img, err = png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, 2*576, img.Bounds().Dx())
	if dir := os.Getenv("TRIAD_PLOT_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "curve_one.png"), mustPNG(t, one), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "curve_three.png"), b, 0o644))
	}
	_, err = learningCurvePNG([]Point{{Step: 1, Split: "val", Metrics: map[string]float64{"val_words": 3}}}, "")
	require.Error(t, err, "nothing to plot")
}

func mustPNG(t *testing.T, pts []Point) []byte {
	b, err := learningCurvePNG(pts, "one point")
	require.NoError(t, err)
	return b
}

func TestPlainTicks(t *testing.T) {
	got := plainTicks{integer: true}.Ticks(0, 30)
	var ls []string
	for _, tk := range got {
		ls = append(ls, tk.Label)
	}
	require.Equal(t, []string{"0", "5", "10", "15", "20", "25", "30"}, ls)
	ls = nil
	for _, tk := range (plainTicks{}).Ticks(0.0012, 0.0051) {
		ls = append(ls, tk.Label)
	}
	require.Equal(t, []string{"0.002", "0.003", "0.004", "0.005"}, ls)
	ls = nil
	for _, tk := range (plainTicks{integer: true}).Ticks(0, 120000) {
		ls = append(ls, tk.Label)
	}
	require.Equal(t, []string{"0", "20000", "40000", "60000", "80000", "100000", "120000"}, ls)
}

func TestRunTitle(t *testing.T) {
	for dir, want := range map[string]string{
		"runs/lm/20261207-0412": "lm 20261207-0412",
		"lm30":                  "lm30",
		"./lm30/":               "lm30",
		"/lm30":                 "lm30",
	} {
		if got := runTitle(dir); got != want {
			t.Errorf("runTitle(%q) = %q, want %q", dir, got, want)
		}
	}
}
