package train

import (
	"bytes"
	"image/color"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/triadml/triad/internal/atomicfile"
)

// plot draws the training loss, the metric that selects the best checkpoint and
// every validation metric named *loss against the step into learning_curve.png.
func (l *Loop) plot() error {
	p := plot.New()
	p.Title.Text = "learning curve"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "loss"
	series := map[string]plotter.XYs{}
	for _, pt := range l.history {
		for k, v := range pt.Metrics {
			if k != "loss" && k != l.Best && !bytes.HasSuffix([]byte(k), []byte("loss")) {
				continue
			}
			name := pt.Split + " " + k
			if pt.Split == "val" {
				name = k
			}
			series[name] = append(series[name], plotter.XY{X: float64(pt.Step), Y: v})
		}
	}
	palette := []color.Color{color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255}, color.RGBA{0xff, 0x7f, 0x0e, 255}}
	for i, name := range sortedKeys(series) {
		line, err := plotter.NewLine(series[name])
		if err != nil {
			return errors.Wrap(err, name)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(name, line)
	}
	p.Legend.Top = true
	img := vgimg.New(7*vg.Inch, 4*vg.Inch)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(l.Dir, "learning_curve.png"), buf.Bytes(), 0o644)
}
