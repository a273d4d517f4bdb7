package main

import (
	"strings"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

func TestRunsShort(t *testing.T) {
	_, res := testenv.RunShort(t, run)
	if res.steps != 60 {
		t.Errorf("%d steps, want 60", res.steps)
	}
	// A model that knows nothing pays ln(vocabulary) nats per character,
	// about 3.3 for the built-in text; 60 steps learn much of it.
	if !(res.final < 2.5) {
		t.Errorf("validation loss %.3f after the short run", res.final)
	}
	if !strings.HasPrefix(res.sample, "FIRST CITIZEN:\n") || len(res.sample) <= len("FIRST CITIZEN:\n") {
		t.Errorf("sample %q", res.sample)
	}
}
