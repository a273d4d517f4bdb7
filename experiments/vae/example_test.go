package vae_test

import (
	"context"
	"fmt"
	"io"

	"github.com/triadml/triad/experiments/vae"
	"github.com/triadml/triad/internal/testenv"
)

// A VAE trained for 12 epochs on 64 generated 4x4 images, each a bright half
// (left or right), then loaded from its run directory to reconstruct an image.
func Example() {
	dir, remove := testenv.TempDir("vae-example")
	defer remove()
	image := func(i int) []float32 {
		px := make([]float32, 16)
		for j := range px {
			if j%4 < 2 == (i%2 == 0) {
				px[j] = 1
			}
		}
		return px
	}
	var data vae.Data
	data.Rows, data.Cols = 4, 4
	for i := range 64 {
		data.Train = append(data.Train, image(i)...)
	}
	for i := range 8 {
		data.Test = append(data.Test, image(i)...)
	}

	cfg := vae.DefaultConfig()
	cfg.Out, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Hidden, cfg.Latent, cfg.IWAEK = dir, 12, 16, 1e-2, "8", 1, "4"
	sum := testenv.Must(vae.RunOn(context.Background(), cfg, data, io.Discard))
	fmt.Printf("%d steps, IWAE k=%d on %d images\n", sum.Steps, sum.IWAE[0].K, sum.IWAE[0].Images)

	m := testenv.Must(vae.Load(sum.Dir))
	defer m.Close()
	rec := testenv.Must(m.Reconstruct([][]float32{image(0)}))
	fmt.Printf("%d pixels, first row %.0f\n", len(rec[0]), rec[0][:4])
	// Output:
	// 48 steps, IWAE k=4 on 8 images
	// 16 pixels, first row [1 1 0 0]
}
