package report

import (
	"bytes"
	"image/color"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/triadml/triad/internal/atomicfile"
)

// Heatmap draws attention weights as a PNG at path: weights[i][j] is the weight
// output token i (row, labelled out[i], top to bottom) gives source token j
// (column, labelled src[j], left to right), on a white-to-dark-blue scale from 0
// to the largest weight. Rows may be longer than src (padding columns are
// dropped); a space is labelled "·".
func Heatmap(path string, weights [][]float64, src, out []string, title string) error {
	if len(weights) == 0 || len(src) == 0 || len(out) != len(weights) {
		return errors.Errorf("heatmap %s: %d rows of weights for %d output labels and %d source labels", path, len(weights), len(out), len(src))
	}
	for i, row := range weights {
		if len(row) < len(src) {
			return errors.Errorf("heatmap %s: row %d has %d weights for %d source tokens", path, i, len(row), len(src))
		}
	}
	g := weightGrid{w: weights, cols: len(src)}
	hm := plotter.NewHeatMap(g, Blues(64))
	hm.Min, hm.Max = 0, math.Max(g.Max(), 1e-12)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "source"
	p.Y.Label.Text = "output"
	p.Add(hm)
	var xt, yt []plot.Tick
	for j, s := range src {
		xt = append(xt, plot.Tick{Value: float64(j), Label: tokenLabel(s)})
	}
	for i, s := range out {
		yt = append(yt, plot.Tick{Value: float64(len(out) - 1 - i), Label: tokenLabel(s)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(len(src))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(out))-0.5
	width := vg.Length(len(src))*vg.Points(14) + vg.Inch
	height := vg.Length(len(out))*vg.Points(16) + vg.Inch
	img := vgimg.New(width, height)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrapf(err, "heatmap %s", path)
	}
	return errors.Wrapf(atomicfile.WriteFile(path, buf.Bytes(), 0o644), "heatmap %s", path)
}

func tokenLabel(s string) string {
	if s == " " {
		return "·"
	}
	return s
}

// weightGrid adapts the weights to plotter.GridXYZ with the first output row at the top.
type weightGrid struct {
	w    [][]float64
	cols int
}

func (g weightGrid) Dims() (c, r int)   { return g.cols, len(g.w) }
func (g weightGrid) Z(c, r int) float64 { return g.w[len(g.w)-1-r][c] }
func (g weightGrid) X(c int) float64    { return float64(c) }
func (g weightGrid) Y(r int) float64    { return float64(r) }

// Max returns the largest weight shown.
func (g weightGrid) Max() float64 {
	m := 0.0
	for _, row := range g.w {
		for _, v := range row[:g.cols] {
			m = math.Max(m, v)
		}
	}
	return m
}

// Blues is a palette.Palette of n colours from white to a dark blue, the heat
// maps' scale.
type Blues int

// Colors returns the palette's colours, lightest first.
func (n Blues) Colors() []color.Color {
	cs := make([]color.Color, int(n))
	for i := range cs {
		t := float64(i) / float64(len(cs)-1)
		mix := func(a, b float64) uint8 { return uint8(math.Round(a + (b-a)*t)) }
		cs[i] = color.RGBA{R: mix(255, 8), G: mix(255, 48), B: mix(255, 107), A: 255}
	}
	return cs
}
