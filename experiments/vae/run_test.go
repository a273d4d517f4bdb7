package vae

import (
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

// blobImages returns n images of side x side pixels in [0, 1]: a bright square
// at one of four positions with some noise, a stand-in for MNIST that a VAE can
// learn in a few steps.
func blobImages(seed uint64, n, side int) []float32 {
	rng := graph.NewRNG(seed, "blobs")
	out := make([]float32, n*side*side)
	for i := range n {
		ox, oy := (i%2)*side/2, (i/2%2)*side/2
		for y := range side {
			for x := range side {
				v := 0.1 * rng.Float64()
				if x >= ox && x < ox+side/2 && y >= oy && y < oy+side/2 {
					v = 0.9 + v
				}
				out[i*side*side+y*side+x] = float32(v)
			}
		}
	}
	return out
}

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// smokeConfig is two short epochs on 100 generated 8x8 images (a smaller last
// batch), a 2-D latent space (so the manifold is drawn), and the
// importance-weighted estimates on the whole test set (k = 1) and on a subset
// (k = 10).
func smokeConfig(dir string) (Config, Data) {
	const side = 8
	cfg := DefaultConfig()
	cfg.Out = dir
	cfg.Epochs = 2
	cfg.Batch = 32
	cfg.Hidden = "16"
	cfg.Latent = 2
	cfg.LogEvery = 3
	cfg.IWAEK = "1,10"
	cfg.IWAEMaxSamples = 200 // k=10: 20 of the 50 test images
	return cfg, Data{Train: blobImages(1, 100, side), Test: blobImages(2, 50, side), Rows: side, Cols: side}
}

// TestSmoke trains on generated images and checks the files of the run
// directory and the summary returned.
func TestSmoke(t *testing.T) {
	const side = 8
	dir := t.TempDir()
	cfg, data := smokeConfig(dir)
	got, err := RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	require.Equal(t, dir, got.Dir)

	for _, name := range []string{"config.json", "metrics.jsonl", "summary.json", "iwae.json", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(dir, name))
	}
	for _, epoch := range []string{"01", "02"} {
		w, h := pngSize(t, filepath.Join(dir, "reconstruction_epoch"+epoch+".png"))
		// figures are drawn twice their size above a caption strip (a 13-pixel line, 4-pixel margins)
		const strip = 13 + 2*4
		require.Equal(t, []int{2 * (8*(side+2) + 2), 2*(2*(side+2)+2) + strip}, []int{w, h}, "8 digits above their reconstructions")
		w, h = pngSize(t, filepath.Join(dir, "samples_epoch"+epoch+".png"))
		require.Equal(t, []int{2 * (8*(side+2) + 2), 2*(8*(side+2)+2) + strip}, []int{w, h}, "8x8 samples")
		w, h = pngSize(t, filepath.Join(dir, "manifold_epoch"+epoch+".png"))
		require.Equal(t, []int{2 * 20 * side, 2*20*side + strip}, []int{w, h}, "20x20 manifold")
	}

	sum := testenv.ReadJSON[train.Summary](t, filepath.Join(dir, "summary.json"))
	require.Equal(t, 2*4, sum.Steps, "100 images in batches of 32: 4 steps per epoch")
	for _, k := range []string{"test_nelbo", "test_recon", "test_kl", "train_nelbo", "test_nll_iwae_k1", "test_nll_iwae_k10", "seconds_per_epoch"} {
		require.Contains(t, sum.Final, k)
	}
	require.InDelta(t, sum.Final["test_nelbo"], sum.Final["test_recon"]+sum.Final["test_kl"], 1e-3)
	require.Equal(t, 50.0, sum.Final["iwae_images_k1"])
	require.Equal(t, 20.0, sum.Final["iwae_images_k10"])
	require.Contains(t, sum.Best, "test_nelbo")
	require.Equal(t, sum.Final, got.Final, "the summary returned is summary.json's")

	iw := testenv.ReadJSON[struct {
		Estimates []IWAEEstimate `json:"estimates"`
	}](t, filepath.Join(dir, "iwae.json"))
	// k=1 on all 50, k=1 on the subset of 20 for comparison, k=10 on the 20
	require.Len(t, iw.Estimates, 3)
	require.Equal(t, []int{1, 50}, []int{iw.Estimates[0].K, iw.Estimates[0].Images})
	require.Equal(t, []int{1, 20}, []int{iw.Estimates[1].K, iw.Estimates[1].Images})
	require.Equal(t, []int{10, 20}, []int{iw.Estimates[2].K, iw.Estimates[2].Images})
	require.LessOrEqual(t, iw.Estimates[2].NLL, iw.Estimates[1].NLL+0.5, "more samples tighten the bound")
	require.Equal(t, iw.Estimates, got.IWAE)

	// two evaluation lines, with the training and test negative ELBO
	evals := traintest.Points(t, dir, "val")
	require.Len(t, evals, 2)
	for _, p := range evals {
		require.Contains(t, p.Metrics, "train_nelbo")
		require.Contains(t, p.Metrics, "test_nelbo")
	}
}

// TestResume resumes a finished one-epoch run for a second epoch and checks
// that its metrics are those of an uninterrupted two-epoch run with the same
// seed, bitwise.
func TestResume(t *testing.T) {
	const side = 6
	data := Data{Train: blobImages(3, 40, side), Test: blobImages(4, 10, side), Rows: side, Cols: side}
	cfg := DefaultConfig()
	cfg.Batch, cfg.Hidden, cfg.Latent, cfg.IWAEK, cfg.LogEvery = 16, "8", 3, "", 1
	full := t.TempDir()
	cfg.Out, cfg.Epochs = full, 2
	_, err := RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	part := t.TempDir()
	cfg.Out, cfg.Epochs = part, 1
	_, err = RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	cfg.Epochs, cfg.Resume = 2, part
	_, err = RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	testenv.RequireSameFile(t, "metrics.jsonl", full, part)
}

// TestInterrupted checks that a cancelled run stops with train.ErrInterrupted.
func TestInterrupted(t *testing.T) {
	cfg, data := smokeConfig(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := RunOn(ctx, cfg, data, io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
	require.NotNil(t, sum)
	require.True(t, sum.Interrupted)
}

func TestValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	for name, change := range map[string]func(*Config){
		"hidden":      func(c *Config) { c.Hidden = "400,x" },
		"likelihood":  func(c *Config) { c.Likelihood = "poisson" },
		"batch":       func(c *Config) { c.Batch = 0 },
		"iwae_k":      func(c *Config) { c.IWAEK = "0" },
		"learn_sigma": func(c *Config) { c.LearnSigma = true },
		"activation":  func(c *Config) { c.Activation = "swish" },
		"max samples": func(c *Config) { c.IWAEMaxSamples = -1 },
	} {
		cfg := DefaultConfig()
		change(&cfg)
		require.Error(t, cfg.Validate(), name)
		_, err := RunOn(context.Background(), cfg, Data{}, io.Discard)
		require.True(t, train.IsUsage(err), "%s: %v", name, err)
	}
	cfg, _ := smokeConfig(t.TempDir())
	_, err := RunOn(context.Background(), cfg, Data{Train: make([]float32, 10), Test: make([]float32, 8), Rows: 2, Cols: 4}, io.Discard)
	require.True(t, train.IsUsage(err), "not whole images: %v", err)
}
