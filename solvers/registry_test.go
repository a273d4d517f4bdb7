package solvers

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewByName(t *testing.T) {
	s, err := New("adam", Hyper{"lr": 3e-4, "beta2": 0.98})
	require.NoError(t, err)
	require.Equal(t, AdamConfig{LR: 3e-4, Beta1: 0.9, Beta2: 0.98, Eps: 1e-8}, s.(*Adam).Config())
	s, err = New("RMSProp", Hyper{"lr": 2e-3, "alpha": 0.95})
	require.NoError(t, err)
	require.Equal(t, 0.95, s.(*RMSProp).Config().Alpha)
	s, err = New("sgd", Hyper{"lr": 0.1, "momentum": 0.9, "nesterov": true})
	require.NoError(t, err)
	require.True(t, s.(*SGD).Config().Nesterov)
	s, err = New("adamw", nil)
	require.NoError(t, err)
	require.Equal(t, 1e-2, s.(*AdamW).Config().WeightDecay)
	require.Equal(t, []string{"adagrad", "adam", "adamw", "rmsprop", "sgd"}, Names())

	_, err = New("lion", nil)
	require.ErrorContains(t, err, `unknown optimizer "lion"`)
	_, err = New("adam", Hyper{"alpha": 0.9})
	require.ErrorContains(t, err, "alpha")
}

func TestOnly(t *testing.T) {
	require.Equal(t, Hyper{"lr": 0.1}, Only("adam", Hyper{"lr": 0.1, "alpha": 0.95}))
	require.Equal(t, Hyper{"lr": 0.1, "alpha": 0.95}, Only("rmsprop", Hyper{"lr": 0.1, "alpha": 0.95}))
}
