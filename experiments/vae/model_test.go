package vae

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoad loads a finished run and uses it: samples, codes, reconstructions.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cfg, data := smokeConfig(dir)
	cfg.IWAEK = ""
	_, err := RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	m, err := Load(dir)
	require.NoError(t, err)
	defer m.Close()
	d := data.Pixels()
	require.Equal(t, d, m.VAE.Config.Input, "the image size, from the checkpoint")

	a, err := m.Sample(5, 7)
	require.NoError(t, err)
	require.Len(t, a, 5)
	for _, img := range a {
		require.Len(t, img, d)
		for _, v := range img {
			require.True(t, v >= 0 && v <= 1, "a Bernoulli mean %g", v)
		}
	}
	b, err := m.Sample(5, 7)
	require.NoError(t, err)
	require.Equal(t, a, b, "the same seed, the same samples")
	c, err := m.Sample(5, 8)
	require.NoError(t, err)
	require.NotEqual(t, a, c)

	images := [][]float32{data.Test[:d], data.Test[d : 2*d], data.Test[2*d : 3*d]}
	rec, err := m.Reconstruct(images)
	require.NoError(t, err)
	require.Len(t, rec, 3)
	z, err := m.Encode(images)
	require.NoError(t, err)
	require.Len(t, z, 3)
	require.Len(t, z[0], cfg.Latent)
	dec, err := m.Decode(z)
	require.NoError(t, err)
	require.Equal(t, rec, dec, "a reconstruction decodes the code's mean")

	_, err = m.Reconstruct([][]float32{make([]float32, d-1)})
	require.Error(t, err)
	_, err = m.Decode(nil)
	require.Error(t, err)
	_, err = m.Sample(0, 1)
	require.Error(t, err)
	_, err = Load(t.TempDir())
	require.Error(t, err, "no run there")
}

// TestLoadGaussian loads a run whose decoder learns its variance, a parameter
// more than a Bernoulli decoder's.
func TestLoadGaussian(t *testing.T) {
	dir := t.TempDir()
	cfg, data := smokeConfig(dir)
	cfg.Epochs, cfg.IWAEK, cfg.Likelihood, cfg.LearnSigma, cfg.Hidden = 1, "", "gaussian", true, "16,8"
	_, err := RunOn(context.Background(), cfg, data, io.Discard)
	require.NoError(t, err)
	m, err := Load(dir)
	require.NoError(t, err)
	defer m.Close()
	require.NotNil(t, m.VAE.DecLogVar)
	rec, err := m.Reconstruct([][]float32{data.Test[:data.Pixels()]})
	require.NoError(t, err)
	require.Len(t, rec[0], data.Pixels())
}
