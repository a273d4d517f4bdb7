package vae

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/atomicfile"
)

// GridOptions lays out images in a grid.
type GridOptions struct {
	// Cols is the number of images per row of the grid.
	Cols int
	// Pad is the number of pixels between and around the images.
	Pad int
	// PadValue is the intensity of the padding, in [0, 1].
	PadValue float64
}

// Grid lays out the n = len(pixels)/(h*w) images of h x w intensities in [0, 1]
// (row-major, image after image; values outside are clipped) in a grid of
// opt.Cols columns, row after row, as an 8-bit grey image.
func Grid(pixels []float64, h, w int, opt GridOptions) (*image.Gray, error) {
	if h <= 0 || w <= 0 || len(pixels) == 0 || len(pixels)%(h*w) != 0 {
		return nil, errors.Errorf("vae: %d values are not whole %dx%d images", len(pixels), h, w)
	}
	if opt.Cols <= 0 || opt.Pad < 0 {
		return nil, errors.Errorf("vae: grid of %d columns with padding %d", opt.Cols, opt.Pad)
	}
	n := len(pixels) / (h * w)
	cols := min(opt.Cols, n)
	rows := (n + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*(w+opt.Pad)+opt.Pad, rows*(h+opt.Pad)+opt.Pad))
	pad := grey(opt.PadValue)
	for i := range img.Pix {
		img.Pix[i] = pad.Y
	}
	for k := range n {
		x0 := opt.Pad + (k%cols)*(w+opt.Pad)
		y0 := opt.Pad + (k/cols)*(h+opt.Pad)
		for y := range h {
			for x := range w {
				img.SetGray(x0+x, y0+y, grey(pixels[k*h*w+y*w+x]))
			}
		}
	}
	return img, nil
}

// grey maps an intensity in [0, 1] to an 8-bit grey level, clipping.
func grey(v float64) color.Gray {
	if math.IsNaN(v) {
		v = 0
	}
	return color.Gray{Y: uint8(math.Round(255 * math.Min(1, math.Max(0, v))))}
}

// WritePNG writes img as a PNG file at path, atomically: the path holds either
// its old content or the whole new image.
func WritePNG(path string, img image.Image) error {
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, img) })
	return errors.Wrap(err, "vae: writing a PNG")
}

// NormalQuantile returns the inverse of the standard normal CDF at p in (0, 1):
// sqrt(2) erfinv(2p - 1).
func NormalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// ManifoldLatents returns the n x n two-dimensional latent points of the figure
// of a learnt manifold (Kingma and Welling 2014, figure 4): the grid of unit-square
// points u_i = (i + 1/2)/n mapped through the inverse normal CDF, so that equal
// areas of the grid hold equal prior mass. Points come row after row (n*n*2
// values): z_1 grows from left to right, z_2 from the bottom row to the top one.
func ManifoldLatents(n int) []float64 {
	z := make([]float64, 0, 2*n*n)
	for row := range n {
		z2 := NormalQuantile(1 - (float64(row)+0.5)/float64(n))
		for col := range n {
			z = append(z, NormalQuantile((float64(col)+0.5)/float64(n)), z2)
		}
	}
	return z
}
