// Package notebook gives the example scripts a notebook's shape: prose, a step,
// its printed result, a figure, the next step. Everything printed also goes to a
// Markdown page (README.md) in the output folder, next to the figures.
//
// The same scripts run as Jupyter notebooks on the GoNB kernel (the .ipynb
// files of notebooks/, made from the scripts' sources): there the notebook
// sets Display, and prose and figures show in the page as Markdown and
// images rather than as text and file names.
package notebook

import (
	"bytes"
	"flag"
	"fmt"
	"image/color"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/triadml/triad/internal/atomicfile"
)

// Frontend shows a script's prose and figures where it runs: a Jupyter
// kernel's display functions, for instance GoNB's gonbui.DisplayMarkdown and
// gonbui.DisplayPNG.
type Frontend struct {
	// Markdown shows a paragraph of Markdown.
	Markdown func(md string)
	// PNG shows a PNG image.
	PNG func(png []byte)
}

// Display, when its functions are set, shows every notebook's prose and
// figures as they are made (the figures are still written to the output
// folder and the page). A notebook's first cell sets it.
var Display Frontend

// ShortEnv is the environment variable that makes Flags default to -short
// when it is set to anything but "" or "0": how `make notebooks` runs the
// notebooks quickly.
const ShortEnv = "TRIAD_NOTEBOOK_SHORT"

// Notebook collects one script's page.
type Notebook struct {
	dir   string
	page  bytes.Buffer
	out   io.Writer
	Short bool // a quick run, for tests
}

// Flags parses the flags every script takes: -out DIR and -short (whose
// default is on when the environment variable named by ShortEnv is set).
func Flags(defaultOut string) (out string, short bool) {
	if flag.Lookup("out") == nil {
		flag.String("out", defaultOut, "folder for the figures and the Markdown page")
		flag.Bool("short", ShortFromEnv(), "a quick run (fewer steps)")
	}
	flag.Parse()
	out = flag.Lookup("out").Value.String()
	short = flag.Lookup("short").Value.String() == "true"
	return out, short
}

// Main is a script's main function: it parses Flags with defaultOut and runs
// run, ending the program with run's error. run's result is for the script's
// test, which calls run itself.
func Main[R any](defaultOut string, run func(out string, short bool) (R, error)) {
	Run(defaultOut, func(out string, short bool) error {
		_, err := run(out, short)
		return err
	})
}

// Run is Main for a script whose run gives its test nothing but the error.
func Run(defaultOut string, run func(out string, short bool) error) {
	out, short := Flags(defaultOut)
	if err := run(out, short); err != nil {
		log.Fatal(err)
	}
}

// ShortFromEnv reports whether the environment asks for short runs (see
// ShortEnv).
func ShortFromEnv() bool {
	v := os.Getenv(ShortEnv)
	return v != "" && v != "0"
}

// New starts a notebook titled title writing to dir.
func New(dir, title string, short bool, out io.Writer) (*Notebook, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	nb := &Notebook{dir: dir, out: out, Short: short}
	fmt.Fprintf(&nb.page, "# %s\n\n", title)
	if Display.Markdown != nil {
		Display.Markdown("## " + title)
	} else {
		fmt.Fprintf(out, "# %s\n\n", title)
	}
	return nb, nil
}

// Text adds a paragraph of prose.
func (nb *Notebook) Text(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	fmt.Fprintf(&nb.page, "%s\n\n", s)
	if Display.Markdown != nil {
		Display.Markdown(s)
		return
	}
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

// markerLimit is the number of points of a curve up to which each point is
// also drawn as a marker.
const markerLimit = 60

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
		c := palette[i%len(palette)]
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = c
		line.Width = vg.Points(2)
		p.Add(line)
		if len(pts) <= markerLimit {
			// Few points: each one is drawn, so that a short run shows.
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			p.Legend.Add(label, line, sc)
		} else {
			p.Legend.Add(label, line)
		}
	}
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(12), vg.Points(12)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(11), vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
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

// plainTicks places about six major ticks at 1, 2 or 5 times a power of ten,
// labelled in plain decimals with as many digits as the spacing needs.
type plainTicks struct{}

// Ticks implements plot.Ticker.
func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	x := (hi - lo) / 6
	step := 1.0
	if x > 0 {
		p := math.Pow(10, math.Floor(math.Log10(x)))
		step = 10 * p
		for _, m := range []float64{1, 2, 5} {
			if m*p >= x*(1-1e-9) {
				step = m * p
				break
			}
		}
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		v = math.Round(v/step) * step
		if v == 0 {
			v = 0 // not -0
		}
		label := strconv.FormatFloat(v, 'f', prec, 64)
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

// Image writes a PNG made elsewhere and adds it to the page.
func (nb *Notebook) Image(file, caption string, png []byte) error {
	if err := atomicfile.WriteFile(filepath.Join(nb.dir, file), png, 0o644); err != nil {
		return err
	}
	nb.show(file, caption, png)
	return nil
}

// show adds a figure to the page and shows it: through Display, with its
// caption under it, or as its file name.
func (nb *Notebook) show(file, caption string, png []byte) {
	fmt.Fprintf(&nb.page, "![%s](%s)\n\n", caption, file)
	if Display.PNG != nil && png != nil {
		Display.PNG(png)
		if Display.Markdown != nil && caption != "" {
			Display.Markdown("*" + caption + "*")
		}
		return
	}
	fmt.Fprintf(nb.out, "[figure: %s]\n\n", filepath.Join(nb.dir, file))
}

// Close writes the page as README.md in the output folder.
func (nb *Notebook) Close() error {
	return atomicfile.WriteFile(filepath.Join(nb.dir, "README.md"), nb.page.Bytes(), 0o644)
}
