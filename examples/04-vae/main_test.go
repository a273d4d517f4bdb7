package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

func TestRunsShort(t *testing.T) {
	dir := t.TempDir()
	res, err := run(config{out: dir, short: true, latent: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.source != "synthetic strokes" {
		t.Errorf("a short run trained on %q, want the synthetic strokes", res.source)
	}
	for name, e := range map[string]elbo{"before": res.before, "after": res.after} {
		// With beta = 1 the reported loss is recon + KL, both means over the
		// same images; the KL of two Gaussians is never negative.
		if math.Abs(e.nelbo-(e.recon+e.kl)) > 1e-3*math.Abs(e.nelbo) || e.kl < 0 || math.IsNaN(e.nelbo) {
			t.Errorf("%s training: -ELBO %g, recon %g, KL %g", name, e.nelbo, e.recon, e.kl)
		}
	}
	// 40 Adam steps must lower the objective clearly: the untrained decoder
	// gives every pixel probability near 1/2, about 256 ln 2 = 177 nats.
	if !(res.after.nelbo < 0.9*res.before.nelbo) {
		t.Errorf("test -ELBO went from %.2f to %.2f", res.before.nelbo, res.after.nelbo)
	}
	if !(res.lastLoss < res.firstLoss) {
		t.Errorf("training loss went from %.2f to %.2f", res.firstLoss, res.lastLoss)
	}
	// Grid layout of vae.Grid with one pixel of padding, enlarged twice.
	want := map[string][2]int{
		"latent_grid.png":   {2 * (res.gridSide*(res.cols+1) + 1), 2 * (res.gridSide*(res.rows+1) + 1)},
		"interpolation.png": {2 * ((res.interpolation+2)*(res.cols+1) + 1), 2 * (res.rows + 2)},
	}
	for file, wh := range want {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Error(err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if cfg.Width != wh[0] || cfg.Height != wh[1] {
			t.Errorf("%s is %dx%d, want %dx%d", file, cfg.Width, cfg.Height, wh[0], wh[1])
		}
	}
	testenv.NonEmptyFiles(t, dir, append(res.files, "README.md")...)
	if _, err := run(config{out: dir, short: true, latent: 1}); err == nil {
		t.Error("a latent size of 1 was accepted")
	}
}
