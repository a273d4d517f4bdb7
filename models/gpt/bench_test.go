package gpt_test

import (
	"testing"

	"github.com/triadml/triad/bench"
	"github.com/triadml/triad/models/internal/modeltest"
)

// BenchmarkBabyGPTTrainStep is one training step (forward, backward, AdamW) of
// the bench package's gpt-baby: nanoGPT's character-level "baby GPT" for CPUs
// in float32.
func BenchmarkBabyGPTTrainStep(b *testing.B) { runBench(b, "gpt-baby") }

// BenchmarkGPT2SmallGenerate is the bench package's gpt2-small-generate: 128
// tokens generated greedily after a prompt of 16 with GPT-2 small's shape on
// random float32 weights.
func BenchmarkGPT2SmallGenerate(b *testing.B) { runBench(b, "gpt2-small-generate") }

// runBench times the steps of the bench configuration called name after a
// first step (compilation, first-run allocations), and reports the CPU
// milliseconds a step and the configuration's items a second.
func runBench(b *testing.B, name string) {
	c, ok := bench.Lookup(name)
	if !ok {
		b.Fatalf("no bench configuration %q", name)
	}
	step, items, _, err := c.Setup()
	if err != nil {
		b.Fatal(err)
	}
	if err := step(); err != nil {
		b.Fatal(err)
	}
	modeltest.TimeSteps(b, step)
	b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), c.Items+"/s")
}
