// Package notebook gives the example scripts a notebook's shape: prose, a step,
// its printed result, a figure, the next step. Everything printed also goes to a
// Markdown page (README.md) in the output folder, next to the figures.
package notebook

import (
	"bytes"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/triadml/triad/internal/atomicfile"
)

// Notebook collects one script's page.
type Notebook struct {
	dir   string
	page  bytes.Buffer
	out   io.Writer
	Short bool // a quick run, for tests
}

// Flags parses the flags every script takes: -out DIR and -short.
func Flags(defaultOut string) (out string, short bool) {
	flag.StringVar(&out, "out", defaultOut, "folder for the figures and the Markdown page")
	flag.BoolVar(&short, "short", false, "a quick run (fewer steps)")
	flag.Parse()
	return out, short
}

// New starts a notebook titled title writing to dir.
func New(dir, title string, short bool, out io.Writer) (*Notebook, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	nb := &Notebook{dir: dir, out: out, Short: short}
	fmt.Fprintf(&nb.page, "# %s\n\n", title)
	fmt.Fprintf(out, "# %s\n\n", title)
	return nb, nil
}

// Text adds a paragraph of prose.
func (nb *Notebook) Text(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	fmt.Fprintf(&nb.page, "%s\n\n", s)
	fmt.Fprintf(nb.out, "%s\n\n", s)
}

// Printf prints a result, shown as code on the page.
func (nb *Notebook) Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	fmt.Fprintf(&nb.page, "```\n%s```\n\n", ensureNewline(s))
	fmt.Fprint(nb.out, ensureNewline(s))
}

func ensureNewline(s string) string {
	if len(s) == 0 || s[len(s)-1] != '\n' {
		return s + "\n"
	}
	return s
}

// Curves is a named series of (x, y) points.
type Curves map[string][][2]float64

// Plot draws the curves into name.png and adds it to the page.
func (nb *Notebook) Plot(name, title, xlabel, ylabel string, curves Curves, order []string) error {
	return nb.PlotWith(name, title, xlabel, ylabel, curves, order, PlotOptions{})
}

// PlotOptions places a plot's legend; the zero value puts it at the top right.
type PlotOptions struct {
	// LegendBottom and LegendLeft move the legend to the bottom or left edge.
	LegendBottom, LegendLeft bool
}

// PlotWith is Plot with the legend placed by opt.
func (nb *Notebook) PlotWith(name, title, xlabel, ylabel string, curves Curves, order []string, opt PlotOptions) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	palette := []color.Color{
		color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255},
		color.RGBA{0xff, 0x7f, 0x0e, 255}, color.RGBA{0x94, 0x67, 0xbd, 255}, color.RGBA{0x8c, 0x56, 0x4b, 255},
	}
	for i, label := range order {
		pts := make(plotter.XYs, len(curves[label]))
		for j, xy := range curves[label] {
			pts[j] = plotter.XY{X: xy[0], Y: xy[1]}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(label, line)
	}
	p.Legend.Top = !opt.LegendBottom
	p.Legend.Left = opt.LegendLeft
	w, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return err
	}
	return nb.Image(name+".png", title, buf.Bytes())
}

// Image writes a PNG made elsewhere and adds it to the page.
func (nb *Notebook) Image(file, caption string, png []byte) error {
	if err := atomicfile.WriteFile(filepath.Join(nb.dir, file), png, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(&nb.page, "![%s](%s)\n\n", caption, file)
	fmt.Fprintf(nb.out, "[figure: %s]\n\n", filepath.Join(nb.dir, file))
	return nil
}

// Close writes the page as README.md in the output folder.
func (nb *Notebook) Close() error {
	return atomicfile.WriteFile(filepath.Join(nb.dir, "README.md"), nb.page.Bytes(), 0o644)
}
