package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

func init() {
	register("bench", "training-step benchmarks of the reference configurations", benchMain)
}

// benchConfig is one reference configuration: setup builds it and returns one
// training step (forward, backward, Adam) and how many items (tokens or examples)
// a step covers and how many floating-point operations it does.
type benchConfig struct {
	name  string
	what  string
	setup func() (step func() error, items int, flops float64, err error)
}

var benchConfigs []benchConfig

func registerBench(c benchConfig) { benchConfigs = append(benchConfigs, c) }

// benchResult is one configuration's measurement.
type benchResult struct {
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

func benchMain(args []string) error {
	fs := flag.NewFlagSet("triad bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	threads := fs.Int("threads", 0, "threads for Go code and BLAS (0: all CPUs)")
	only := fs.String("only", "", "run one configuration: "+strings.Join(benchNames(), ", "))
	steps := fs.Int("steps", 20, "measured steps (after warm-up)")
	warmup := fs.Int("warmup", 3, "warm-up steps")
	jsonOut := fs.Bool("json", false, "print one JSON object per configuration instead of a line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured steps to this file (with --only)")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the measured steps to this file (with --only)")
	list := fs.Bool("list", false, "print the configuration names, one a line, and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: triad bench [flags]")
			fs.PrintDefaults()
			return errHelp
		}
		return usage(err)
	}
	if *list {
		for _, n := range benchNames() {
			fmt.Println(n)
		}
		return nil
	}
	if *steps < 1 || *warmup < 0 {
		return usage(errors.New("steps must be positive and warmup non-negative"))
	}
	train.SetThreads(*threads)
	if *only == "" && (*cpuProfile != "" || *memProfile != "") {
		return usage(errors.New("--cpuprofile and --memprofile need --only"))
	}
	if *only == "" {
		// one process per configuration, so that each peak memory is its own
		for _, c := range benchConfigs {
			cmd := exec.Command(os.Args[0], "bench", "--only", c.name, "--threads", strconv.Itoa(*threads),
				"--steps", strconv.Itoa(*steps), "--warmup", strconv.Itoa(*warmup), "--json="+strconv.FormatBool(*jsonOut))
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return errors.Wrapf(err, "bench %s", c.name)
			}
		}
		return nil
	}
	var cfg *benchConfig
	for i := range benchConfigs {
		if benchConfigs[i].name == *only {
			cfg = &benchConfigs[i]
		}
	}
	if cfg == nil {
		return usage(errors.Errorf("unknown configuration %q (%s)", *only, strings.Join(benchNames(), ", ")))
	}
	res, err := runBench(*cfg, *threads, *steps, *warmup, profiles{cpu: *cpuProfile, mem: *memProfile})
	if err != nil {
		return err
	}
	if *jsonOut {
		raw, _ := json.Marshal(res)
		fmt.Println(string(raw))
		return nil
	}
	fmt.Printf("%-15s median %.4f s/step (min %.4f, max %.4f, %d steps, CPU %.4f s)  %.0f %s/s  %.1f GFLOP/s (%.0f%% of %.0f GEMM peak)  peak RSS %.0f MB  %.0f allocs/step  %.1f MB/step  threads %d  %s\n",
		res.Name, res.MedianSec, res.MinSec, res.MaxSec, res.Steps, res.CPUSec, res.ItemsPerSec, cfg.what, res.GFLOPS,
		100*res.GFLOPS/res.PeakGFLOPS, res.PeakGFLOPS, res.PeakRSSMB, res.AllocsPerStep, res.BytesPerStep/1e6, res.Threads, res.BLAS)
	return nil
}

func benchNames() []string {
	var n []string
	for _, c := range benchConfigs {
		n = append(n, c.name)
	}
	return n
}

// profiles names the files runBench writes profiles of the measured steps to
// ("" for none).
type profiles struct{ cpu, mem string }

func runBench(c benchConfig, threads, steps, warmup int, prof profiles) (*benchResult, error) {
	step, items, flops, err := c.setup()
	if err != nil {
		return nil, errors.Wrap(err, c.name)
	}
	for i := 0; i < warmup; i++ {
		if err := step(); err != nil {
			return nil, errors.Wrap(err, c.name)
		}
	}
	if prof.mem != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1 // every allocation of the measured steps
	}
	if prof.cpu != "" {
		f, err := os.Create(prof.cpu)
		if err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, errors.Wrap(err, "cpu profile")
		}
		defer pprof.StopCPUProfile()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	times, cpu := make([]float64, steps), make([]float64, steps)
	for i := range times {
		t0, c0 := time.Now(), processCPU()
		if err := step(); err != nil {
			return nil, errors.Wrap(err, c.name)
		}
		times[i], cpu[i] = time.Since(t0).Seconds(), processCPU()-c0
	}
	runtime.ReadMemStats(&after)
	if prof.mem != "" {
		if err := writeHeapProfile(prof.mem); err != nil {
			return nil, err
		}
	}
	sorted := append([]float64(nil), times...)
	sort.Float64s(sorted)
	med := median(times)
	return &benchResult{
		Name: c.name, Threads: threadCount(threads), Steps: steps, MedianSec: med, MinSec: sorted[0], MaxSec: sorted[len(sorted)-1], CPUSec: median(cpu),
		ItemsPerSec: float64(items) / med, Items: c.what, FlopsPerStep: flops, GFLOPS: flops / med / 1e9, PeakGFLOPS: gemmPeak(), PeakRSSMB: peakRSSMB(),
		AllocsPerStep: float64(after.Mallocs-before.Mallocs) / float64(steps),
		BytesPerStep:  float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
		BLAS:          graph.BLAS, Times: times,
	}, nil
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
