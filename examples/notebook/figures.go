package notebook

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/triadml/triad/metrics/report"
)

// Dir returns the output folder of the notebook.
func (nb *Notebook) Dir() string { return nb.dir }

// Path returns the path of file inside the output folder, for figures that a
// library writes itself (then Attach adds them to the page).
func (nb *Notebook) Path(file string) string { return filepath.Join(nb.dir, file) }

// Attach adds a figure already written into the output folder (as file) to the
// page.
func (nb *Notebook) Attach(file, caption string) {
	png, err := os.ReadFile(nb.Path(file))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		png = nil // shown by name
	}
	nb.show(file, caption, png)
}

// PNG encodes img and adds it to the page as file.
func (nb *Notebook) PNG(file, caption string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return errors.Wrapf(err, "notebook: encoding %s", file)
	}
	return nb.Image(file, caption, buf.Bytes())
}

// Grid is a matrix of values to draw as a heat map: Z[r][c] is row r (drawn
// top to bottom, labelled Rows[r]) and column c (left to right, labelled
// Cols[c]).
type Grid struct {
	Z          [][]float64
	Rows, Cols []string
	// XLabel and YLabel name the axes.
	XLabel, YLabel string
	// CellFormat, when not empty, prints each value in its cell with this
	// fmt verb (e.g. "%.3f").
	CellFormat string
}

// Heatmap draws g into name.png, white for 0 (or the smallest value, if
// negative) to dark blue for the largest value, and adds it to the page.
func (nb *Notebook) Heatmap(name, title string, g Grid) error {
	if len(g.Z) == 0 || len(g.Z) != len(g.Rows) {
		return errors.Errorf("notebook: heatmap %s has %d rows and %d row labels", name, len(g.Z), len(g.Rows))
	}
	for r, row := range g.Z {
		if len(row) != len(g.Cols) {
			return errors.Errorf("notebook: heatmap %s: row %d has %d values for %d column labels", name, r, len(row), len(g.Cols))
		}
	}
	lo, hi := 0.0, 0.0
	for _, row := range g.Z {
		for _, v := range row {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	hm := plotter.NewHeatMap(matrixGrid(g.Z), report.Blues(64))
	hm.Min, hm.Max = lo, hi
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = g.XLabel, g.YLabel
	p.Add(hm)
	var xt, yt []plot.Tick
	for c, s := range g.Cols {
		xt = append(xt, plot.Tick{Value: float64(c), Label: s})
	}
	for r, s := range g.Rows {
		yt = append(yt, plot.Tick{Value: float64(len(g.Rows) - 1 - r), Label: s})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(len(g.Cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(g.Rows))-0.5
	if g.CellFormat != "" {
		var pts plotter.XYLabels
		var styles []text.Style
		for r, row := range g.Z {
			for c, v := range row {
				pts.XYs = append(pts.XYs, plotter.XY{X: float64(c), Y: float64(len(g.Rows) - 1 - r)})
				pts.Labels = append(pts.Labels, fmt.Sprintf(g.CellFormat, v))
				ink := color.Color(color.Black)
				if (v-lo)/(hi-lo) > 0.55 {
					ink = color.White
				}
				styles = append(styles, text.Style{Font: font.From(plotter.DefaultFont, vg.Points(9)),
					Color: ink, XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler})
			}
		}
		labels, err := plotter.NewLabels(pts)
		if err != nil {
			return errors.Wrapf(err, "notebook: heatmap %s", name)
		}
		labels.TextStyle = styles
		p.Add(labels)
	}
	width := vg.Length(len(g.Cols))*vg.Points(48) + 1.5*vg.Inch
	height := vg.Length(len(g.Rows))*vg.Points(30) + 1.2*vg.Inch
	img := vgimg.New(width, height)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrapf(err, "notebook: heatmap %s", name)
	}
	return nb.Image(name+".png", title, buf.Bytes())
}

// matrixGrid shows a row-major matrix to gonum's heat map, row 0 at the top.
type matrixGrid [][]float64

func (m matrixGrid) Dims() (c, r int)   { return len(m[0]), len(m) }
func (m matrixGrid) Z(c, r int) float64 { return m[len(m)-1-r][c] }
func (m matrixGrid) X(c int) float64    { return float64(c) }
func (m matrixGrid) Y(r int) float64    { return float64(r) }
