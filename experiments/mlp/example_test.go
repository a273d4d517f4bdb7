package mlp_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/experiments/mlp"
	"github.com/triadml/triad/internal/testenv"
)

// stripes writes an MNIST-format stand-in: digit d is a bright horizontal band
// at rows 2d+4 to 2d+6 over faint noise.
func stripes(dir, split string, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0))
	img, labels := make([]uint8, n*28*28), make([]uint8, n)
	for i := range labels {
		d := rng.IntN(10)
		labels[i] = uint8(d)
		for p := 0; p < 28*28; p++ {
			img[i*28*28+p] = uint8(rng.IntN(40))
			if r := p / 28; r >= 2*d+4 && r < 2*d+7 {
				img[i*28*28+p] = 200 + uint8(rng.IntN(56))
			}
		}
	}
	return datasets.WriteMNIST(dir, split, img, labels, 28, 28)
}

func Example() {
	tmp, remove := testenv.TempDir("mlp")
	defer remove()
	data := filepath.Join(tmp, "data")
	testenv.Check(os.MkdirAll(data, 0o755))
	testenv.Check(stripes(data, "train", 600, 1))
	testenv.Check(stripes(data, "test", 100, 2))

	cfg := mlp.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(tmp, "run")
	cfg.Hidden, cfg.Batch, cfg.Epochs, cfg.LogEvery = 32, 20, 2, 10
	sum := testenv.Must(mlp.Run(context.Background(), cfg, io.Discard))
	fmt.Printf("%d steps, test accuracy %.2f, test loss below chance: %v\n", sum.Steps, sum.TestAcc, sum.TestLoss > 0 && sum.TestLoss < math.Log(10))

	m := testenv.Must(mlp.Load(sum.Dir))
	defer m.Close()
	band := func(d int) []float32 {
		img := make([]float32, 28*28)
		for p := (2*d + 4) * 28; p < (2*d+7)*28; p++ {
			img[p] = 0.9
		}
		return img
	}
	digits, err := m.Predict([][]float32{band(3), band(7)})
	fmt.Println(digits, err)
	// Output:
	// 54 steps, test accuracy 1.00, test loss below chance: true
	// [3 7] <nil>
}
