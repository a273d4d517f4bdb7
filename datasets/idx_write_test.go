package datasets

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteMNISTRoundTrips(t *testing.T) {
	dir := t.TempDir()
	img := []uint8{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	require.NoError(t, WriteMNIST(dir, "test", img, []uint8{7, 3}, 2, 3))
	got, labels, rows, cols, err := LoadMNIST(dir, "test")
	require.NoError(t, err)
	require.Equal(t, img, got)
	require.Equal(t, []uint8{7, 3}, labels)
	require.Equal(t, [2]int{2, 3}, [2]int{rows, cols})

	require.ErrorContains(t, WriteMNIST(dir, "test", img, []uint8{7, 3}, 3, 3), "not 2 images")
	require.ErrorContains(t, WriteMNIST(dir, "test", img, []uint8{7, 10}, 2, 3), "not a digit")
	require.ErrorContains(t, WriteMNIST(dir, "valid", img, []uint8{7, 3}, 2, 3), "unknown MNIST split")
}
