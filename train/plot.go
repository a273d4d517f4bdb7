package train

import (
	"bytes"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/triadml/triad/internal/atomicfile"
)

// metricKind is one panel of the learning curve: the metrics it shows, its
// axis label, and the factor from a metric's value to the axis's unit.
type metricKind struct {
	order int
	title string
	axis  string
	scale float64
}

// kinds are the panels, in the order drawn.
var (
	kindLoss  = metricKind{0, "loss", "loss (nats)", 1}
	kindPPL   = metricKind{1, "perplexity", "perplexity", 1}
	kindAcc   = metricKind{2, "accuracy and F1", "%", 100}
	kindError = metricKind{3, "error rates", "error rate (%)", 100}
	kindBLEU  = metricKind{4, "BLEU", "BLEU", 1}
	kindROUGE = metricKind{5, "ROUGE F1", "ROUGE F1 (%)", 100}
	kindLR    = metricKind{6, "learning rate", "learning rate", 1}
)

// kindOf returns the panel of metric name, false for a metric the learning
// curve leaves out (counts, gates, sums).
func kindOf(name string) (metricKind, bool) {
	base := name
	for _, p := range []string{"train_", "val_", "test_"} {
		base = strings.TrimPrefix(base, p)
	}
	switch {
	case base == "lr":
		return kindLR, true
	case strings.HasSuffix(base, "loss") || base == "nelbo" || base == "recon" || base == "kl":
		return kindLoss, true
	case base == "ppl" || base == "perplexity":
		return kindPPL, true
	case strings.HasPrefix(base, "bleu"):
		return kindBLEU, true
	case strings.HasPrefix(base, "rouge"):
		return kindROUGE, true
	case strings.Contains(base, "acc") || strings.Contains(base, "exact") || strings.Contains(base, "f1"):
		return kindAcc, true
	case base == "der" || base == "cer" || base == "wer" || base == "per" || strings.HasPrefix(base, "der_") ||
		strings.HasPrefix(base, "cer_") || strings.HasPrefix(base, "wer_") || base == "sub" || base == "ins" || base == "del":
		return kindError, true
	}
	return metricKind{}, false
}

// curveSeries is one line of a panel.
type curveSeries struct {
	name string
	pts  plotter.XYs
}

// curvePanels groups the metrics of points into panels by kind: the training
// loss, every validation and test metric of a known kind, and the learning
// rate once it changes. Each panel's series are sorted by name.
func curvePanels(points []Point) ([]metricKind, map[metricKind][]curveSeries) {
	series := map[string]plotter.XYs{}
	kinds := map[string]metricKind{}
	for _, pt := range points {
		for k, v := range pt.Metrics {
			kind, ok := kindOf(k)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			name := k
			if pt.Split == "train" && !strings.HasPrefix(k, "train_") {
				name = "train " + k
			}
			series[name] = append(series[name], plotter.XY{X: float64(pt.Step), Y: v * kind.scale})
			kinds[name] = kind
		}
	}
	if lr, ok := series["train lr"]; ok {
		constant := true
		for _, p := range lr {
			constant = constant && p.Y == lr[0].Y
		}
		if constant {
			delete(series, "train lr")
		}
	}
	panels := map[metricKind][]curveSeries{}
	for _, name := range sortedKeys(series) {
		k := kinds[name]
		panels[k] = append(panels[k], curveSeries{name: name, pts: series[name]})
	}
	var order []metricKind
	for k := range panels {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].order < order[j].order })
	return order, panels
}

// curvePalette is the colours of a panel's series.
var curvePalette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255},
	color.RGBA{0xff, 0x7f, 0x0e, 255}, color.RGBA{0x94, 0x67, 0xbd, 255}, color.RGBA{0x8c, 0x56, 0x4b, 255},
}

// markerLimit is the number of points of a series up to which each point is
// also drawn as a marker, so that a short run (or a single evaluation) shows.
const markerLimit = 60

// learningCurvePNG draws the metrics of points as a PNG: one panel per kind
// of metric (losses, perplexity, accuracy and F1, error rates, BLEU, ROUGE,
// the learning rate), each with its own axis, against the step; two columns
// of panels when there are more than two.
func learningCurvePNG(points []Point, title string) ([]byte, error) {
	order, panels := curvePanels(points)
	if len(order) == 0 {
		return nil, errors.New("no metrics to plot")
	}
	cols := 1
	if len(order) > 2 {
		cols = 2
	}
	rows := (len(order) + cols - 1) / cols
	const panelW, panelH = 6 * vg.Inch, 3.4 * vg.Inch
	titleH := vg.Length(0)
	if title != "" {
		titleH = 0.4 * vg.Inch
	}
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(cols)*panelW, vg.Length(rows)*panelH+titleH), vgimg.UseDPI(96))
	dc := draw.New(img)
	if title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(15)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: dc.Max.X / 2, Y: dc.Max.Y - vg.Points(6)}, title)
		dc.Max.Y -= titleH
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(10), PadX: vg.Points(18), PadY: vg.Points(14)}
	for i, kind := range order {
		p := plot.New()
		p.Title.Text = kind.title
		p.Title.TextStyle.Font.Size = vg.Points(13)
		p.X.Label.Text, p.Y.Label.Text = "step", kind.axis
		p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(12), vg.Points(12)
		p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(11), vg.Points(11)
		p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{integer: true}, plainTicks{}
		p.Add(plotter.NewGrid())
		for j, s := range panels[kind] {
			c := curvePalette[j%len(curvePalette)]
			line, err := plotter.NewLine(s.pts)
			if err != nil {
				return nil, errors.Wrap(err, s.name)
			}
			line.Color, line.Width = c, vg.Points(2)
			p.Add(line)
			if len(s.pts) <= markerLimit {
				sc, err := plotter.NewScatter(s.pts)
				if err != nil {
					return nil, errors.Wrap(err, s.name)
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
				p.Add(sc)
				p.Legend.Add(s.name, line, sc)
			} else {
				p.Legend.Add(s.name, line)
			}
		}
		padRange(&p.X.Min, &p.X.Max, 0.02)
		padRange(&p.Y.Min, &p.Y.Max, 0.05)
		placeLegend(p, panels[kind])
		p.Legend.TextStyle.Font.Size = vg.Points(11)
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// placeLegend puts the legend in the right-hand corner, top or bottom, with
// fewer points under it, and makes room for it there: the y range grows on
// that side by a line of text per series.
func placeLegend(p *plot.Plot, series []curveSeries) {
	x0 := p.X.Min + 0.55*(p.X.Max-p.X.Min)
	lo, hi := p.Y.Min, p.Y.Max
	var top, bottom int
	for _, s := range series {
		for _, pt := range s.pts {
			if pt.X < x0 {
				continue
			}
			if pt.Y > (lo+hi)/2 {
				top++
			} else {
				bottom++
			}
		}
	}
	p.Legend.Top = top <= bottom
	room := (hi - lo) * 0.09 * float64(len(series))
	if p.Legend.Top {
		p.Y.Max += room
	} else {
		p.Y.Min -= room
	}
}

// padRange widens [*lo, *hi] by frac of its width on each side, and a range of
// one value to a unit around it.
func padRange(lo, hi *float64, frac float64) {
	if *hi <= *lo {
		d := math.Max(1, math.Abs(*lo)*0.1)
		*lo, *hi = *lo-d, *hi+d
		return
	}
	d := (*hi - *lo) * frac
	*lo, *hi = *lo-d, *hi+d
}

// plainTicks places about six major ticks at 1, 2 or 5 times a power of ten,
// labelled in plain decimals (no exponents); integer keeps them whole.
type plainTicks struct{ integer bool }

// Ticks implements plot.Ticker.
func (t plainTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep((hi - lo) / 6)
	if t.integer && step < 1 {
		step = 1
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		x := math.Round(v/step) * step
		if x == 0 {
			x = 0 // not -0
		}
		label := strconv.FormatFloat(x, 'f', prec, 64)
		ticks = append(ticks, plot.Tick{Value: x, Label: label})
	}
	return ticks
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten that is at
// least x.
func niceStep(x float64) float64 {
	if !(x > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// runTitle names a run directory by its last two elements (runs/lm/20261207-0412
// is "lm 20261207-0412"), or its last alone where the parent says nothing (".", "/").
func runTitle(dir string) string {
	dir = filepath.Clean(dir)
	parent := filepath.Base(filepath.Dir(dir))
	if parent == "." || parent == string(filepath.Separator) {
		return filepath.Base(dir)
	}
	return parent + " " + filepath.Base(dir)
}

// plot draws the run's metrics into learning_curve.png (see learningCurvePNG)
// and adds it to the run's TensorBoard images at the last point's step.
func (l *Loop) plot() error {
	png, err := learningCurvePNG(l.history, runTitle(l.Dir))
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(l.Dir, "learning_curve.png"), png, 0o644); err != nil {
		return err
	}
	step := 0
	if len(l.history) > 0 {
		step = l.history[len(l.history)-1].Step
	}
	return NewSummaries(l.Dir).Image("learning_curve", step, png)
}
