package train

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrintFlags(t *testing.T) {
	var cfg struct {
		Common
		LR  float64 `json:"lr" help:"learning rate"`
		Tie bool    `json:"tie" help:"tie the head"`
	}
	cfg.LR = 2e-3
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	BindFlags(fs, &cfg)
	fs.String("run", "", "run directory of a `triad lm` run")
	var out bytes.Buffer
	PrintFlags(&out, fs)
	help := out.String()
	require.Regexp(t, `(?m)^  --lr float +learning rate \(default 0\.002\)$`, help)
	require.Regexp(t, `(?m)^  --tie +tie the head$`, help)
	require.Regexp(t, "(?m)^  --run string +run directory of a `triad lm` run$", help)
	require.Regexp(t, `(?m)^  --seed int `, help)
	require.NotContains(t, help, "value")
}
