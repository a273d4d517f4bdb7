package main

import (
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

func TestRunsShort(t *testing.T) {
	dir, res := testenv.RunShort(t, run)
	if res.steps != 40 {
		t.Errorf("%d steps, want 40", res.steps)
	}
	if len(res.normalised) != len(dates) {
		t.Errorf("%d dates normalised of %d", len(res.normalised), len(dates))
	}
	testenv.NonEmptyFiles(t, dir, "README.md", "run/config.json", "run/learning_curve.png", "run/checkpoints/last.safetensors")
}
