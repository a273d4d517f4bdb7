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

// The tag of an embedded group rewords a setting's help text and gives it an
// old key, for the config embedding it only.
func TestGroupTagsOverrideHelpAndAlias(t *testing.T) {
	type cfg struct {
		Common
		Optim   `help.lr:"peak Adam learning rate"`
		EvalSet `alias.eval_size:"val_size"`
	}
	c := cfg{Optim: Optim{LR: 1e-3}}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	BindFlags(fs, &c)
	require.Equal(t, "peak Adam learning rate", fs.Lookup("lr").Usage)
	require.Equal(t, "examples per training step", fs.Lookup("batch").Usage)
	require.Equal(t, "0.001", fs.Lookup("lr").DefValue)
	require.Nil(t, fs.Lookup("val-size"), "an old key is no flag")

	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"val_size": 7, "clip_norm": 2}`), 0o644))
	require.NoError(t, ParseConfig(fs, &c, []string{"--config", path, "--batch", "5"}))
	require.Equal(t, 7, c.EvalSize)
	require.Equal(t, 2.0, c.ClipNorm)
	require.Equal(t, 5, c.Batch)
	require.Equal(t, 7, c.Of(10), "EvalSize of a larger set")
	require.Equal(t, 5, c.Of(5), "the whole of a smaller set")
}
