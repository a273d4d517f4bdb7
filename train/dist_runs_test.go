package train

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/triadml/triad/graph"
)

// TestCompareRuns compares two run directories, as scripts/test_mpi.sh does
// with a single-process run and the same run over MPI ranks:
//
//	TRIAD_COMPARE_RUNS=runA,runB [TRIAD_COMPARE_TOL=1e-4] go test ./train -run TestCompareRuns -v
//
// Every tensor of checkpoints/last.safetensors (parameters, solver state, task
// state) and every number of metrics.jsonl must agree within the tolerance:
// |a-b| <= tol * max(1, |b|), a tolerance relative to values above 1 and
// absolute below. It logs the largest differences found, and skips unless
// TRIAD_COMPARE_RUNS is set.
func TestCompareRuns(t *testing.T) {
	spec := os.Getenv("TRIAD_COMPARE_RUNS")
	if spec == "" {
		t.Skip("set TRIAD_COMPARE_RUNS=runA,runB to compare two run directories")
	}
	dirs := strings.Split(spec, ",")
	if len(dirs) != 2 {
		t.Fatalf("TRIAD_COMPARE_RUNS=%q: want two directories separated by a comma", spec)
	}
	tol := 1e-4
	if v := os.Getenv("TRIAD_COMPARE_TOL"); v != "" {
		var err error
		if tol, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("TRIAD_COMPARE_TOL=%q: %v", v, err)
		}
	}
	within := func(a, b float64) (float64, bool) {
		d := math.Abs(a - b)
		return d, d <= tol*math.Max(1, math.Abs(b))
	}

	// checkpoints
	load := func(dir string) (map[string][]float64, map[string]string) {
		ts, meta, err := graph.LoadTensors(filepath.Join(dir, "checkpoints", lastName))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float64{}
		for k, v := range ts {
			out[k] = graph.Float64s(v)
		}
		return out, meta
	}
	a, metaA := load(dirs[0])
	b, metaB := load(dirs[1])
	if metaA["step"] != metaB["step"] {
		t.Fatalf("checkpoints of steps %s and %s", metaA["step"], metaB["step"])
	}
	if len(a) != len(b) {
		t.Fatalf("%d tensors against %d", len(a), len(b))
	}
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	worst := map[string]float64{}
	for _, k := range names {
		va, vb := a[k], b[k]
		if len(va) != len(vb) {
			t.Fatalf("%s: %d elements against %d", k, len(va), len(vb))
		}
		group := strings.SplitN(k, "/", 2)[0]
		for i := range va {
			d, ok := within(va[i], vb[i])
			worst[group] = math.Max(worst[group], d)
			if !ok {
				t.Errorf("%s[%d]: %v against %v", k, i, va[i], vb[i])
				break
			}
		}
	}
	for _, g := range sortedKeys(worst) {
		t.Logf("checkpoint step %s, %s: largest difference %.3g", metaA["step"], g, worst[g])
	}

	// metrics
	read := func(dir string) []Point {
		f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []Point
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var p Point
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	ma, mb := read(dirs[0]), read(dirs[1])
	if len(ma) != len(mb) {
		t.Fatalf("metrics.jsonl: %d lines against %d", len(ma), len(mb))
	}
	var worstMetric float64
	for i := range ma {
		if ma[i].Step != mb[i].Step || ma[i].Split != mb[i].Split || len(ma[i].Metrics) != len(mb[i].Metrics) {
			t.Fatalf("metrics.jsonl line %d: %+v against %+v", i+1, ma[i], mb[i])
		}
		for k, v := range ma[i].Metrics {
			w, present := mb[i].Metrics[k]
			d, ok := within(v, w)
			if !present || !ok {
				t.Errorf("metrics.jsonl line %d, %s: %v against %v", i+1, k, v, w)
			}
			worstMetric = math.Max(worstMetric, d)
		}
	}
	t.Logf("metrics.jsonl: %d lines, largest difference %.3g (tolerance %g)", len(ma), worstMetric, tol)
}
