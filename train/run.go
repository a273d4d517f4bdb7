package train

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// WriteConfig writes dir/config.json: every field of cfg plus the environment
// under "env".
func WriteConfig(dir string, cfg any, env Env) error {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return errors.Wrap(err, "config")
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return errors.Wrap(err, "config")
	}
	fields["env"] = env
	return WriteJSON(filepath.Join(dir, "config.json"), fields)
}

// LoadParams loads a run's weights into s: checkpoints/best.safetensors when the
// run has one, else checkpoints/last.safetensors. It returns the file it read.
func LoadParams(runDir string, s *graph.Store) (string, error) {
	best := filepath.Join(runDir, "checkpoints", bestName)
	if _, err := os.Stat(best); err == nil {
		return best, graph.LoadStore(best, s)
	}
	last := filepath.Join(runDir, "checkpoints", lastName)
	ts, _, err := graph.LoadTensors(last)
	if err != nil {
		return last, errors.Wrapf(err, "run %s has no usable checkpoint", runDir)
	}
	params := map[string]*tensor.Dense{}
	for k, v := range ts {
		if name, ok := strings.CutPrefix(k, "param/"); ok {
			params[name] = v
		}
	}
	return last, errors.Wrapf(graph.AssignStore(s, params), "loading %s", last)
}

// ReadConfig fills cfg (a pointer to an experiment's config struct) from a run's
// config.json, as --resume does: the environment is skipped, renamed keys are
// accepted under their old names, and any other unknown key is an error.
func ReadConfig(runDir string, cfg any) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	BindFlags(fs, cfg)
	return ParseConfig(fs, cfg, []string{"--config", filepath.Join(runDir, "config.json")})
}

// ReadMetrics returns the points of a run's metrics.jsonl, in order: what a
// notebook plots or a test compares. A metric written as "NaN", "+Inf" or
// "-Inf" (or null) is read as that number.
func ReadMetrics(runDir string) ([]Point, error) {
	raw, err := os.ReadFile(filepath.Join(runDir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	out, i, err := decodePoints(raw)
	if err != nil {
		return nil, errors.Wrapf(err, "%s line %d", filepath.Join(runDir, "metrics.jsonl"), i+1)
	}
	return out, nil
}
