package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRunsShort(t *testing.T) {
	dir := t.TempDir()
	res, err := run(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.steps != 40 {
		t.Errorf("%d steps, want 40", res.steps)
	}
	if len(res.normalised) != len(dates) {
		t.Errorf("%d dates normalised of %d", len(res.normalised), len(dates))
	}
	for _, f := range []string{"README.md", "run/config.json", "run/learning_curve.png", "run/checkpoints/last.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
