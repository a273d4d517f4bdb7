package train

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
)

// Restore rebuilds the model of a finished run for inference: build creates
// its parameters in a new float32 store, initialised from the seed's "init"
// stream as the run's were, each checked against the run's checkpoint before
// it is allocated (ExpectParams), and the checkpoint is then loaded into them
// (LoadParams, whose file it returns).
func Restore[M any](runDir string, seed uint64, build func(*graph.Store) (M, error)) (m M, s *graph.Store, file string, err error) {
	s = graph.NewStore(tensor.Float32, graph.NewRNG(seed, "init"))
	if err = ExpectParams(runDir, s); err != nil {
		return m, nil, "", err
	}
	if m, err = build(s); err != nil {
		return m, nil, "", err
	}
	if file, err = LoadParams(runDir, s); err != nil {
		return m, nil, "", err
	}
	return m, s, file, nil
}

// SplitText reads dir/input.txt, or the tinyshakespeare dataset where dir is
// empty, and cuts it at trainFrac of its characters into a training and a
// validation part. A text that cannot be found or read is a usage error.
func SplitText(dir string, trainFrac float64) (trainPart, valPart string, err error) {
	if dir == "" {
		if dir, err = datasets.Find("tinyshakespeare"); err != nil {
			return "", "", Usage(err)
		}
	}
	text, err := datasets.LoadTinyShakespeare(dir)
	if err != nil {
		return "", "", Usage(err)
	}
	runes := []rune(text)
	cut := int(float64(len(runes)) * trainFrac)
	return string(runes[:cut]), string(runes[cut:]), nil
}
