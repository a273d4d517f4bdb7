package vae

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"path/filepath"
	"strings"

	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/train"
)

const (
	reconImages  = 8  // test digits shown above their reconstructions
	sampleImages = 64 // 8x8 samples from the prior
	manifoldSide = 20 // 20x20 manifold when the latent space is 2-D
)

// figures writes the reconstructions, the samples and (latent size 2) the
// manifold of the current weights, named after the epoch (or the step when the
// evaluation falls inside an epoch).
func (t *task) figures() error {
	done := t.lastStep + 1
	tag := fmt.Sprintf("step%06d", done)
	if spe := t.StepsPerEpoch(); done%spe == 0 {
		tag = fmt.Sprintf("epoch%02d", done/spe)
	}
	grid := vaemodel.GridOptions{Cols: 8, Pad: 2, PadValue: 0.5}

	n := min(reconImages, t.nTest)
	x := t.data.Test[:n*t.d]
	_, mean, err := t.model.encode(x, n)
	if err != nil {
		return err
	}
	pix := make([]float64, 0, 2*len(x))
	for _, v := range x {
		pix = append(pix, float64(v))
	}
	pix = append(pix, mean...)
	at := fmt.Sprintf("step %d", done)
	if err := t.savePNG("reconstruction_"+tag+".png", "test digits (top), their reconstructions (bottom), "+at, pix, vaemodel.GridOptions{Cols: n, Pad: 2, PadValue: 0.5}); err != nil {
		return err
	}

	samples, err := t.model.decode(t.prior, sampleImages)
	if err != nil {
		return err
	}
	if err := t.savePNG("samples_"+tag+".png", fmt.Sprintf("%d samples from the prior, %s", sampleImages, at), samples, grid); err != nil {
		return err
	}
	if t.model.VAE.Config.Latent == 2 {
		pts, err := t.model.decode(vaemodel.ManifoldLatents(manifoldSide), manifoldSide*manifoldSide)
		if err != nil {
			return err
		}
		if err := t.savePNG("manifold_"+tag+".png", "decoded 2-D latent grid (inverse normal CDF), "+at, pts, vaemodel.GridOptions{Cols: manifoldSide}); err != nil {
			return err
		}
	}
	return nil
}

// savePNG writes images (intensities, image after image) as a grid, enlarged
// twice, over its caption.
func (t *task) savePNG(name, caption string, pix []float64, opt vaemodel.GridOptions) error {
	grid, err := vaemodel.Grid(pix, t.data.Rows, t.data.Cols, opt)
	if err != nil {
		return err
	}
	img := vaemodel.Captioned(grid, caption, 2)
	if err := vaemodel.WritePNG(filepath.Join(t.dir, name), img); err != nil {
		return err
	}
	return t.summarize(name, img)
}

// summarize adds a figure to the run's TensorBoard images, tagged by its kind
// (the file name before its step or epoch: vae/reconstruction, vae/samples,
// vae/manifold) at the evaluation's step.
func (t *task) summarize(name string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	kind, _, _ := strings.Cut(name, "_")
	return train.NewSummaries(t.dir).Image("vae/"+kind, t.lastStep+1, buf.Bytes())
}
