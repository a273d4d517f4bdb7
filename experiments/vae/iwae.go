package vae

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/train"
)

// IWAEEstimate is one importance-weighted estimate of the test negative
// log-likelihood, as iwae.json lists it.
type IWAEEstimate struct {
	K       int     `json:"k"`       // importance samples per image
	Images  int     `json:"images"`  // test images
	Subset  string  `json:"subset"`  // which test images
	NLL     float64 `json:"nll"`     // mean of -L_k over the images, nats
	StdErr  float64 `json:"stderr"`  // its standard error across images
	Seconds float64 `json:"seconds"` // time taken
}

// iwae estimates the test negative log-likelihood of the final weights with the
// importance-weighted bound for each k of Config.IWAEK, on min(test set,
// IWAEMaxSamples/k) evenly spaced test images; when a k uses a subset, the
// smaller ks are also estimated on that subset, for comparison. It adds the
// estimates to the final metrics ("test_nll_iwae_k<k>", "iwae_images_k<k>"),
// writes iwae.json and returns the estimates.
func (t *task) iwae(ctx context.Context, final map[string]float64, logf func(string, ...any)) ([]IWAEEstimate, error) {
	cfg, nTest := t.cfg, t.nTest
	ks, err := batch.ParseInts("iwae_k", cfg.IWAEK)
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	count := func(k int) int {
		if cfg.IWAEMaxSamples == 0 {
			return nTest
		}
		return max(1, min(nTest, cfg.IWAEMaxSamples/k))
	}
	smallest := nTest
	for _, k := range ks {
		smallest = min(smallest, count(k))
	}
	type job struct{ k, n int }
	var jobs []job
	for _, k := range ks {
		jobs = append(jobs, job{k, count(k)})
		if smallest < count(k) {
			jobs = append(jobs, job{k, smallest})
		}
	}
	var entries []IWAEEstimate
	for _, j := range jobs {
		if ctx.Err() != nil {
			return entries, train.ErrInterrupted
		}
		subset, desc := t.data.testSubset(j.n)
		start := time.Now()
		est, err := t.model.VAE.ImportanceWeighted(t.model.store, subset, j.k, graph.NewRNG(cfg.Seed, fmt.Sprintf("vae/iwae/k%d/n%d", j.k, j.n)), vaemodel.IWAEOptions{})
		if err != nil {
			return entries, err
		}
		e := IWAEEstimate{K: j.k, Images: j.n, Subset: desc, NLL: est.NLL, StdErr: est.StdErr, Seconds: time.Since(start).Seconds()}
		entries = append(entries, e)
		if j.n == count(j.k) {
			final[fmt.Sprintf("test_nll_iwae_k%d", j.k)] = e.NLL
			final[fmt.Sprintf("iwae_images_k%d", j.k)] = float64(j.n)
		}
		logf("vae: IWAE k=%d on %s: negative log-likelihood %.2f +- %.2f nats (%.0f s)", j.k, desc, e.NLL, e.StdErr, e.Seconds)
	}
	return entries, train.WriteJSON(filepath.Join(t.dir, "iwae.json"), map[string]any{
		"estimates": entries,
		"weights":   "the final weights (checkpoints/last.safetensors)",
		"bound":     "L_k = E[log 1/k sum_i p(x, z_i)/q(z_i|x)] (Burda et al. 2016); nll is the mean of -L_k over the images, stderr its standard error across images",
	})
}
