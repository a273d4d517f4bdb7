// Package bench measures training steps of triad's reference configurations
// (character language models, the Transformer, the VAE): median seconds a step,
// items a second, GFLOP/s against the machine's GEMM peak, peak memory and
// allocations, so that a change's speed and PyTorch's are figures, not
// impressions. `triad bench` runs the table; each configuration runs in a
// process of its own so that its peak memory is its own.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
)

// Config is one reference configuration: Setup builds it and returns one
// training step (forward, backward, solver), how many items (Items: tokens,
// images) a step covers and how many floating-point operations it does.
type Config struct {
	Name  string
	Items string
	Setup func() (step func() error, items int, flops float64, err error)
}

// configs are the reference configurations, in the order Names lists them.
var configs = []Config{
	{Name: "gpt-baby", Items: "tokens", Setup: gptTrainSetup(12, 64, 4, 4, 128, 0)},
	{Name: "gpt-6x384", Items: "tokens", Setup: gptTrainSetup(16, 128, 6, 6, 384, 0.2)},
	{Name: "gpt2-small-generate", Items: "tokens", Setup: benchGPT2Generate},
	{Name: "charlstm-2x128", Items: "tokens", Setup: charLMSetup(rnn.LSTM, 2, 128)},
	{Name: "charlstm-2x512", Items: "tokens", Setup: charLMSetup(rnn.LSTM, 2, 512)},
	{Name: "chargru-2x128", Items: "tokens", Setup: charLMSetup(rnn.GRU, 2, 128)},
	{Name: "charrnn-1x128", Items: "tokens", Setup: charLMSetup(rnn.Tanh, 1, 128)},
	{Name: "transformer", Items: "tokens", Setup: benchTransformer},
	{Name: "transformer-greedy", Items: "sentences", Setup: benchTransformerDecode(1)},
	{Name: "transformer-beam5", Items: "sentences", Setup: benchTransformerDecode(5)},
	{Name: "vae", Items: "images", Setup: benchVAE},
}

// Result is one configuration's measurement.
type Result struct {
	Name          string    `json:"name"`
	Threads       int       `json:"threads"`
	Steps         int       `json:"steps"`
	MedianSec     float64   `json:"median_s"`
	MinSec        float64   `json:"min_s"`
	MaxSec        float64   `json:"max_s"`
	CPUSec        float64   `json:"cpu_median_s"`
	ItemsPerSec   float64   `json:"items_per_s"`
	Items         string    `json:"items"`
	FlopsPerStep  float64   `json:"flops_per_step"`
	GFLOPS        float64   `json:"gflops"`
	PeakGFLOPS    float64   `json:"gemm_peak_gflops"`
	PeakRSSMB     float64   `json:"peak_rss_mb"`
	AllocsPerStep float64   `json:"allocs_per_step"`
	BytesPerStep  float64   `json:"bytes_per_step"`
	BLAS          string    `json:"blas"`
	Times         []float64 `json:"times_s"`
}

// Names returns the names of the configurations, in their order.
func Names() []string {
	var n []string
	for _, c := range configs {
		n = append(n, c.Name)
	}
	return n
}

// Lookup returns the configuration called name.
func Lookup(name string) (Config, bool) {
	for _, c := range configs {
		if c.Name == name {
			return c, true
		}
	}
	return Config{}, false
}

// String is the result's one-line report.
func (r *Result) String() string {
	return fmt.Sprintf("%-15s median %.4f s/step (min %.4f, max %.4f, %d steps, CPU %.4f s)  %.0f %s/s  %.1f GFLOP/s (%.0f%% of %.0f GEMM peak)  peak RSS %.0f MB  %.0f allocs/step  %.1f MB/step  threads %d  %s",
		r.Name, r.MedianSec, r.MinSec, r.MaxSec, r.Steps, r.CPUSec, r.ItemsPerSec, r.Items, r.GFLOPS,
		100*r.GFLOPS/r.PeakGFLOPS, r.PeakGFLOPS, r.PeakRSSMB, r.AllocsPerStep, r.BytesPerStep/1e6, r.Threads, r.BLAS)
}

// Profiles names the files Run writes profiles of the measured steps to ("" for
// none).
type Profiles struct{ CPU, Mem string }

// Run measures c: warmup steps, then steps timed one by one, with the process's
// CPU time, the machine's GEMM peak, peak memory and allocations per step.
func Run(c Config, threads, steps, warmup int, prof Profiles) (*Result, error) {
	step, items, flops, err := setUp(c, warmup)
	if err != nil {
		return nil, err
	}
	if prof.Mem != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1 // every allocation of the measured steps
	}
	if prof.CPU != "" {
		f, err := os.Create(prof.CPU)
		if err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer pprof.StopCPUProfile()
	}
	var m measurement
	m.start()
	if err := m.steps(c.Name, step, steps); err != nil {
		return nil, err
	}
	m.stop()
	if prof.Mem != "" {
		if err := writeHeapProfile(prof.Mem); err != nil {
			return nil, err
		}
	}
	return m.result(c, threads, items, flops), nil
}

// Round is the measurement of one round of Rounds.
type Round struct {
	Round int       `json:"round"`
	Times []float64 `json:"times_s"`
	CPU   []float64 `json:"cpu_s"`
}

// Rounds measures c in rounds paced by a driver, so that two tools kept warm in
// their own processes can take turns on an idle machine and be compared round by
// round. After set-up and warm-up it writes {"ready":true} to out; then each line
// read from in holds a step count, and Rounds runs that many steps and writes
// their times to out as a Round in JSON. At the end of in it returns the
// Result over the steps of every round.
func Rounds(c Config, threads, warmup int, in io.Reader, out io.Writer) (*Result, error) {
	step, items, flops, err := setUp(c, warmup)
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(out)
	if err := enc.Encode(map[string]bool{"ready": true}); err != nil {
		return nil, err
	}
	var m measurement
	m.start()
	sc := bufio.NewScanner(in)
	for round := 0; sc.Scan(); round++ {
		n, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil || n < 1 {
			return nil, errors.Errorf("round %d: want a positive step count, got %q", round, sc.Text())
		}
		first := len(m.times)
		if err := m.steps(c.Name, step, n); err != nil {
			return nil, err
		}
		if err := enc.Encode(Round{Round: round, Times: m.times[first:], CPU: m.cpu[first:]}); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(m.times) == 0 {
		return nil, errors.New("no rounds were asked for")
	}
	m.stop()
	return m.result(c, threads, items, flops), nil
}

// setUp builds c and runs its warm-up steps.
func setUp(c Config, warmup int) (step func() error, items int, flops float64, err error) {
	step, items, flops, err = c.Setup()
	if err != nil {
		return nil, 0, 0, errors.Wrap(err, c.Name)
	}
	for i := 0; i < warmup; i++ {
		if err := step(); err != nil {
			return nil, 0, 0, errors.Wrap(err, c.Name)
		}
	}
	return step, items, flops, nil
}

// measurement gathers the wall and CPU time of each measured step and the
// allocations between start and stop.
type measurement struct {
	times, cpu    []float64
	before, after runtime.MemStats
}

func (m *measurement) start() { runtime.ReadMemStats(&m.before) }
func (m *measurement) stop()  { runtime.ReadMemStats(&m.after) }

// steps runs n steps, timing each.
func (m *measurement) steps(name string, step func() error, n int) error {
	for i := 0; i < n; i++ {
		t0, c0 := time.Now(), processCPU()
		if err := step(); err != nil {
			return errors.Wrap(err, name)
		}
		m.times, m.cpu = append(m.times, time.Since(t0).Seconds()), append(m.cpu, processCPU()-c0)
	}
	return nil
}

// result summarises the measured steps.
func (m *measurement) result(c Config, threads, items int, flops float64) *Result {
	sorted := append([]float64(nil), m.times...)
	sort.Float64s(sorted)
	med, n := median(m.times), float64(len(m.times))
	return &Result{
		Name: c.Name, Threads: threadCount(threads), Steps: len(m.times), MedianSec: med, MinSec: sorted[0], MaxSec: sorted[len(sorted)-1], CPUSec: median(m.cpu),
		ItemsPerSec: float64(items) / med, Items: c.Items, FlopsPerStep: flops, GFLOPS: flops / med / 1e9, PeakGFLOPS: gemmPeak(), PeakRSSMB: peakRSSMB(),
		AllocsPerStep: float64(m.after.Mallocs-m.before.Mallocs) / n,
		BytesPerStep:  float64(m.after.TotalAlloc-m.before.TotalAlloc) / n,
		BLAS:          graph.BLAS, Times: m.times,
	}
}

// trainStep returns a training step over the parameters of s: passes in turn
// (setting a batch, running the program), then a step of opt.
func trainStep(s *graph.Store, opt solvers.Solver, passes ...func() error) func() error {
	return func() error {
		for _, pass := range passes {
			if err := pass(); err != nil {
				return err
			}
		}
		return opt.Step(s.Params())
	}
}

// adamStep is trainStep with Adam of solvers.DefaultAdamConfig.
func adamStep(s *graph.Store, passes ...func() error) (func() error, error) {
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		return nil, err
	}
	return trainStep(s, opt, passes...), nil
}

// median returns the median of v (the mean of the middle two for an even count).
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// processCPU returns the user and system CPU seconds of the process, all
// threads together: with one thread, the step's work without the time spent
// waiting for a core on a shared machine.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func threadCount(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}

// gemmPeak measures this machine's float32 GEMM rate: the best of five
// 1024x1024x1024 products through the BLAS the build uses.
func gemmPeak() float64 {
	const n = 1024
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = float32(i%7)/7, float32(i%5)/5
	}
	best := math.Inf(1)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		graph.Gemm(false, false, n, n, n, a, n, b, n, 0, c, n)
		best = math.Min(best, time.Since(t0).Seconds())
	}
	return 2 * n * n * n / best / 1e9
}

// peakRSSMB returns the process's peak resident set (VmHWM) in megabytes.
func peakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// writeHeapProfile writes the allocation profile (allocations since the start,
// sampled at runtime.MemProfileRate) to path.
func writeHeapProfile(path string) error {
	runtime.GC() // the profile shows the allocations up to the last collection
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "memory profile")
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return errors.Wrap(err, "memory profile")
	}
	return errors.Wrap(f.Close(), "memory profile")
}
