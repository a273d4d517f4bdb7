package train

import (
	"os"

	"github.com/pkg/errors"
)

// Callback observes a training run: the loop calls it after every step, with
// every metrics point (the training loss every LogEvery steps and each
// evaluation, the lines of metrics.jsonl) and after every checkpoint it writes.
// An error from a callback stops the run. Embed NopCallback to implement only
// some of the methods.
type Callback interface {
	// OnStep follows training step step (counted from 1) with its loss and rate.
	OnStep(step int, loss, lr float64) error
	// OnPoint receives a metrics point: Split "train" for the logged training
	// loss, the evaluation's split otherwise.
	OnPoint(p Point) error
	// OnCheckpoint follows the writing of a checkpoint: kind "last" or "best".
	OnCheckpoint(kind, path string, step int) error
}

// NopCallback implements Callback doing nothing.
type NopCallback struct{}

// OnStep implements Callback.
func (NopCallback) OnStep(int, float64, float64) error { return nil }

// OnPoint implements Callback.
func (NopCallback) OnPoint(Point) error { return nil }

// OnCheckpoint implements Callback.
func (NopCallback) OnCheckpoint(string, string, int) error { return nil }

// metricsWriter appends each point to metrics.jsonl as one JSON line (a
// non-finite metric as a string, see values.go).
type metricsWriter struct {
	NopCallback
	f *os.File
}

func openMetricsWriter(path string) (*metricsWriter, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, errors.Wrap(err, "train")
	}
	return &metricsWriter{f: f}, nil
}

func (w *metricsWriter) OnPoint(p Point) error {
	line, err := marshalJSON(p, false)
	if err != nil {
		return errors.Wrap(err, "train: metrics")
	}
	_, err = w.f.Write(append(line, '\n'))
	return errors.Wrap(err, "train: metrics")
}

func (w *metricsWriter) close() error { return w.f.Close() }
