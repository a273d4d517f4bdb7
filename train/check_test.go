package train

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckSettings(t *testing.T) {
	type inner struct {
		Rate float32 `json:"rate"`
	}
	type config struct {
		Common
		Optim
		Sub   inner   `json:"sub"`
		Width int     `json:"width"`
		Beta  float64 // no json key: named after the field
		Seed2 uint64  `json:"seed2"`
		Skip  float64 `json:"-"`
	}
	ok := config{Common: Common{Epochs: 1}, Optim: Optim{LR: 0.1}, Width: MaxSetting, Seed2: math.MaxUint64, Skip: math.NaN()}
	require.NoError(t, CheckSettings(&ok))
	require.NoError(t, CheckSettings(ok), "a value as well as a pointer")
	for want, spoil := range map[string]func(c *config){
		"--lr NaN: want a finite number":          func(c *config) { c.LR = math.NaN() },
		"--clip-norm +Inf: want a finite number":  func(c *config) { c.ClipNorm = math.Inf(1) },
		"--sub.rate -Inf: want a finite number":   func(c *config) { c.Sub.Rate = float32(math.Inf(-1)) },
		"--beta NaN":                              func(c *config) { c.Beta = math.NaN() },
		"--width 16777217: want at most 16777216": func(c *config) { c.Width = MaxSetting + 1 },
		"--max-steps 100000000":                   func(c *config) { c.MaxSteps = 100000000 },
	} {
		c := ok
		spoil(&c)
		err := CheckSettings(&c)
		require.Error(t, err, want)
		require.Contains(t, err.Error(), want)
	}
}
