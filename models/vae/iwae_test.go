package vae

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// linearGaussian sets up the linear Gaussian model p(z) = N(0, I),
// p(x|z) = N(W z + b, sigma^2 I), whose marginal is N(b, W W^T + sigma^2 I). W
// has orthogonal columns of squared norm 2.5, so the exact posterior is
// diagonal: covariance 1/(1 + 2.5/sigma^2) I and mean Sigma W^T (x - b)/sigma^2,
// which the linear encoder represents exactly. It returns the model and the exact
// log p(x) of each example of data.
func linearGaussian(t *testing.T, data []float32, logvarShift float64) (*VAE, *graph.Store, []float64) {
	t.Helper()
	const D, L, sigma = 4, 2, 0.5
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	m, err := New(s, Config{Input: D, Latent: L, Likelihood: Gaussian, Sigma: sigma, Beta: 1})
	require.NoError(t, err)
	w := []float64{1, 0.5, 1, -0.5, 0.5, 1, -0.5, 1} // (D, L), columns orthogonal
	bias := []float64{0.1, -0.2, 0.3, 0}
	copy(graph.Slice[float64](m.Out.Weight.Value), w)
	copy(graph.Slice[float64](m.Out.Bias.Value), bias)
	post := 1 / (1 + 2.5/(sigma*sigma))
	a := graph.Slice[float64](m.Mu.Weight.Value) // (L, D) = post W^T / sigma^2
	c := graph.Slice[float64](m.Mu.Bias.Value)
	for l := range L {
		c[l] = 0
		for d := range D {
			a[l*D+d] = post * w[d*L+l] / (sigma * sigma)
			c[l] -= a[l*D+d] * bias[d]
		}
	}
	clear(graph.Slice[float64](m.LogVar.Weight.Value))
	for l := range L {
		graph.Slice[float64](m.LogVar.Bias.Value)[l] = math.Log(post) + logvarShift
	}
	cov := mat.NewSymDense(D, nil)
	for i := range D {
		for j := range D {
			v := w[i*L]*w[j*L] + w[i*L+1]*w[j*L+1]
			if i == j {
				v += sigma * sigma
			}
			cov.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	require.True(t, chol.Factorize(cov))
	n := len(data) / D
	logp := make([]float64, n)
	for e := range n {
		diff := mat.NewVecDense(D, nil)
		for d := range D {
			diff.SetVec(d, float64(data[e*D+d])-bias[d])
		}
		var sol mat.VecDense
		require.NoError(t, chol.SolveVecTo(&sol, diff))
		logp[e] = -0.5 * (D*math.Log(2*math.Pi) + chol.LogDet() + mat.Dot(diff, &sol))
	}
	return m, s, logp
}

func float32Data(seed uint64, n int) []float32 {
	v := uniformData(seed, n)
	out := make([]float32, n)
	for i, x := range v {
		out[i] = float32(2*x - 0.5)
	}
	return out
}

// TestIWAEExactPosterior: when q(z|x) is the exact posterior every importance
// weight equals p(x), so L_k = log p(x) for any k, whatever the chunking into
// runs (here with a remainder batch and several runs per example).
func TestIWAEExactPosterior(t *testing.T) {
	data := float32Data(1, 5*4)
	m, s, logp := linearGaussian(t, data, 0)
	for _, c := range []struct{ k, maxRows int }{{1, 0}, {7, 3}, {6, 4}, {50, 0}} {
		est, err := m.ImportanceWeighted(s, data, c.k, graph.NewRNG(2, "iwae"), IWAEOptions{MaxRows: c.maxRows})
		require.NoError(t, err)
		require.Equal(t, 5, est.Examples)
		require.InDeltaSlice(t, logp, est.LogP, 1e-10, "k=%d", c.k)
		var mean float64
		for _, v := range logp {
			mean += v / 5
		}
		require.InDelta(t, -mean, est.NLL, 1e-10)
	}
}

// TestIWAETightens: with a posterior approximation that is too wide, L_k is
// below log p(x) and rises towards it as k grows (Burda et al. 2016, theorem 1).
// The bound holds in expectation: the estimate is checked above the truth, and
// falling, where the gaps are large against its Monte Carlo noise (k up to 10,
// and 100), and within 0.01 of the truth at k = 2000.
func TestIWAETightens(t *testing.T) {
	data := float32Data(3, 200*4)
	m, s, logp := linearGaussian(t, data, math.Log(3))
	var truth float64
	for _, v := range logp {
		truth -= v / float64(len(logp))
	}
	prev := math.Inf(1)
	for _, k := range []int{1, 10, 100, 2000} {
		est, err := m.ImportanceWeighted(s, data, k, graph.NewRNG(4, "iwae"), IWAEOptions{})
		require.NoError(t, err)
		if k <= 100 {
			require.Less(t, est.NLL, prev, "k=%d", k)
		}
		if k <= 10 {
			require.Greater(t, est.NLL, truth, "k=%d: the bound must stay above the true NLL", k)
		}
		prev = est.NLL
		if k == 2000 {
			require.InDelta(t, truth, est.NLL, 0.01)
		}
	}
}

func TestIWAEErrors(t *testing.T) {
	m, s, _ := linearGaussian(t, float32Data(1, 4), 0)
	_, err := m.ImportanceWeighted(s, float32Data(1, 6), 1, graph.NewRNG(1, "x"), IWAEOptions{})
	require.Error(t, err, "6 values are not whole examples of 4")
	_, err = m.ImportanceWeighted(s, float32Data(1, 8), 0, graph.NewRNG(1, "x"), IWAEOptions{})
	require.Error(t, err)
}
