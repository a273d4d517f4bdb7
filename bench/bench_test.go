package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNames(t *testing.T) {
	for _, want := range []string{"transformer", "vae", "charlstm-2x128"} {
		require.Contains(t, Names(), want)
		_, ok := Lookup(want)
		require.True(t, ok)
	}
}

// Run measures a configuration's steps and writes the profiles it is asked
// for; a tiny stand-in configuration keeps the test fast.
func TestRunBench(t *testing.T) {
	calls := 0
	c := tinyConfig(t, &calls)
	dir := t.TempDir()
	prof := Profiles{CPU: filepath.Join(dir, "cpu.prof"), Mem: filepath.Join(dir, "mem.prof")}
	res, err := Run(c, 1, 5, 2, prof)
	require.NoError(t, err)
	require.Equal(t, 7, calls, "2 warm-up and 5 measured steps")
	require.Equal(t, 5, res.Steps)
	require.Len(t, res.Times, 5)
	require.LessOrEqual(t, res.MinSec, res.MedianSec)
	require.LessOrEqual(t, res.MedianSec, res.MaxSec)
	require.InDelta(t, 1e6/res.MedianSec/1e9, res.GFLOPS, 1e-9)
	require.Equal(t, 1e6, res.FlopsPerStep)
	require.GreaterOrEqual(t, res.CPUSec, 0.0)
	require.Positive(t, res.PeakGFLOPS)
	for _, f := range []string{prof.CPU, prof.Mem} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Positive(t, st.Size(), f)
	}
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}

// tinyConfig is a configuration whose step sums numbers and counts its calls.
func tinyConfig(t *testing.T, calls *int) Config {
	return Config{Name: "tiny", Items: "items", Setup: func() (func() error, int, float64, error) {
		return func() error {
			*calls++
			s := 0.0
			for i := 0; i < 200000; i++ {
				s += float64(i)
			}
			if s < 0 {
				t.Fail()
			}
			return nil
		}, 10, 1e6, nil
	}}
}

// Rounds announces that it is warm, runs each round's step count as it is
// asked for and sums every round up at the end of its input.
func TestRounds(t *testing.T) {
	calls := 0
	var out bytes.Buffer
	res, err := Rounds(tinyConfig(t, &calls), 1, 2, strings.NewReader("3\n1\n4\n"), &out)
	require.NoError(t, err)
	require.Equal(t, 10, calls, "2 warm-up steps and 3+1+4 measured")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Equal(t, `{"ready":true}`, lines[0])
	require.Len(t, lines, 4)
	for i, want := range []int{3, 1, 4} {
		var r Round
		require.NoError(t, json.Unmarshal([]byte(lines[i+1]), &r))
		require.Equal(t, i, r.Round)
		require.Len(t, r.Times, want)
		require.Len(t, r.CPU, want)
	}
	require.Equal(t, 8, res.Steps)
	require.Len(t, res.Times, 8)

	for _, bad := range []string{"", "0\n", "x\n", "2\n-1\n"} {
		_, err := Rounds(tinyConfig(t, &calls), 1, 0, strings.NewReader(bad), io.Discard)
		require.Error(t, err, "%q", bad)
	}
}
