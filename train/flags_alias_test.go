package train

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseConfigAcceptsRenamedKeys(t *testing.T) {
	type cfg struct {
		Common
		LengthPenalty float64 `json:"length_penalty" alias:"alpha" help:"length penalty"`
	}
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"alpha": 0.6, "seed": 3, "env": {}}`), 0o644))
	var c cfg
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	BindFlags(fs, &c)
	require.NoError(t, ParseConfig(fs, &c, []string{"--config", path}))
	require.Equal(t, 0.6, c.LengthPenalty)
	require.Equal(t, uint64(3), c.Seed)

	require.NoError(t, os.WriteFile(path, []byte(`{"beta": 1}`), 0o644))
	require.ErrorContains(t, ParseConfig(fs, &c, []string{"--config", path}), "beta")
}
