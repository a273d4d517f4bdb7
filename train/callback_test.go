package train

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder keeps what a run tells its callbacks.
type recorder struct {
	steps       []int
	points      []Point
	checkpoints []string
}

func (r *recorder) OnStep(step int, _, _ float64) error { r.steps = append(r.steps, step); return nil }
func (r *recorder) OnPoint(p Point) error               { r.points = append(r.points, p); return nil }
func (r *recorder) OnCheckpoint(kind, _ string, _ int) error {
	r.checkpoints = append(r.checkpoints, kind)
	return nil
}

func TestCallbacksSeeEveryStepPointAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	l, _ := newLoop(t, dir, Common{Seed: 3, Epochs: 2, LogEvery: 4, EvalEvery: 8})
	rec := &recorder{}
	l.Callbacks = []Callback{rec}
	_, err := l.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, rec.steps, 16)
	require.Equal(t, 16, rec.steps[15])

	lines, err := ReadMetrics(dir)
	require.NoError(t, err)
	require.Equal(t, lines, rec.points, "metrics.jsonl is what the callbacks see")
	require.Contains(t, rec.checkpoints, "best")
	require.Equal(t, "last", rec.checkpoints[len(rec.checkpoints)-1])
}
