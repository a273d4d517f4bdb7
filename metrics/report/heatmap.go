package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/triadml/triad/internal/atomicfile"
)

// Heatmap draws attention weights as a PNG at path: see HeatmapPNG.
func Heatmap(path string, weights [][]float64, src, out []string, title string) error {
	b, err := HeatmapPNG(weights, src, out, title)
	if err != nil {
		return errors.Wrapf(err, "heatmap %s", path)
	}
	return errors.Wrapf(atomicfile.WriteFile(path, b, 0o644), "heatmap %s", path)
}

// HeatmapPNG draws attention weights as a PNG image: weights[i][j] is the
// weight output token i (row, labelled out[i], top to bottom) gives source
// token j (column, labelled src[j], left to right), on a white-to-dark-blue
// scale from 0 to the largest weight. Rows may be longer than src (padding
// columns are dropped); a space is labelled "·". The image is sized to the
// sentence: each cell is square, large enough for a character, and words
// are written upwards under their columns so that they never overlap. The
// title is the source and the output as sentences (joined without spaces
// when every token is one character), after title when it is not empty,
// wrapped to the image's width.
func HeatmapPNG(weights [][]float64, src, out []string, title string) ([]byte, error) {
	if len(weights) == 0 || len(src) == 0 || len(out) != len(weights) {
		return nil, errors.Errorf("%d rows of weights for %d output labels and %d source labels", len(weights), len(out), len(src))
	}
	for i, row := range weights {
		if len(row) < len(src) {
			return nil, errors.Errorf("row %d has %d weights for %d source tokens", i, len(row), len(src))
		}
	}
	g := weightGrid{w: weights, cols: len(src)}
	hm := plotter.NewHeatMap(g, Blues(64))
	hm.Min, hm.Max = 0, math.Max(g.Max(), 1e-12)
	p := plot.New()
	p.X.Label.Text = "source"
	p.Y.Label.Text = "output"
	p.Add(hm)
	var xt, yt []plot.Tick
	var srcLabels, outLabels []string
	for j, s := range src {
		xt = append(xt, plot.Tick{Value: float64(j), Label: tokenLabel(s)})
		srcLabels = append(srcLabels, tokenLabel(s))
	}
	for i, s := range out {
		yt = append(yt, plot.Tick{Value: float64(len(out) - 1 - i), Label: tokenLabel(s)})
		outLabels = append(outLabels, tokenLabel(s))
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.X.Min, p.X.Max = -0.5, float64(len(src))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(out))-0.5
	// A cell holds the widest label's character, or the line height of a
	// word written upwards.
	cell := vg.Points(20)
	if longest(p.X.Tick.Label, srcLabels) > cell*0.9 {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	width := vg.Length(len(src))*cell + longest(p.Y.Tick.Label, outLabels) + 0.9*vg.Inch
	width = max(width, 3.5*vg.Inch)
	p.Title.Text = wrapText(p.Title.TextStyle, heatmapTitle(title, src, out), width-0.3*vg.Inch)
	p.Title.TextStyle.Font.Size = vg.Points(12)
	xLabels := p.X.Tick.Label.Height("M")
	if p.X.Tick.Label.Rotation != 0 {
		xLabels = longest(p.X.Tick.Label, srcLabels)
	}
	height := vg.Length(len(out))*cell + xLabels + p.Title.TextStyle.Height(p.Title.Text) + 0.9*vg.Inch
	img := vgimg.New(width, height)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// longest returns the width of the widest of labels in sty (unrotated).
func longest(sty text.Style, labels []string) vg.Length {
	sty.Rotation = 0
	var w vg.Length
	for _, l := range labels {
		w = max(w, sty.Width(l))
	}
	return w
}

// heatmapTitle joins the source and the output into the heat map's title.
func heatmapTitle(title string, src, out []string) string {
	sentence := func(toks []string) string {
		sep := ""
		for _, t := range toks {
			if len([]rune(t)) != 1 {
				sep = " "
			}
		}
		return strings.Join(toks, sep)
	}
	s := fmt.Sprintf("%s → %s", sentence(src), sentence(out))
	if title != "" {
		s = title + ": " + s
	}
	return s
}

// wrapText breaks s at spaces into lines no wider than width in sty (a word
// wider than width stands on its own line).
func wrapText(sty text.Style, s string, width vg.Length) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && sty.Width(line+" "+w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
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
