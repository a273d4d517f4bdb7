package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/bench"
	"github.com/triadml/triad/train"
)

func init() {
	register("bench", "training-step benchmarks of the reference configurations", benchMain)
}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("triad bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	threads := fs.Int("threads", 0, "threads for Go code and BLAS (0: all CPUs)")
	only := fs.String("only", "", "run one configuration: "+strings.Join(bench.Names(), ", "))
	steps := fs.Int("steps", 20, "measured steps (after warm-up)")
	warmup := fs.Int("warmup", 3, "warm-up steps")
	jsonOut := fs.Bool("json", false, "print one JSON object per configuration instead of a line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured steps to this file (with --only)")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the measured steps to this file (with --only)")
	rounds := fs.Bool("rounds", false, "with --only and --json: after warm-up print {\"ready\":true}, then run the step count of each line read from standard input and print that round's times, and at its end the summary (for scripts/bench_report.sh, which alternates tools round by round)")
	list := fs.Bool("list", false, "print the configuration names, one a line, and exit")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	switch {
	case *list:
		fmt.Println(strings.Join(bench.Names(), "\n"))
		return nil
	case *steps < 1 || *warmup < 0:
		return usage(errors.New("steps must be positive and warmup non-negative"))
	case *rounds && (*only == "" || !*jsonOut || *cpuProfile != "" || *memProfile != ""):
		return usage(errors.New("--rounds needs --only and --json, and takes no profiles"))
	case *only == "" && (*cpuProfile != "" || *memProfile != ""):
		return usage(errors.New("--cpuprofile and --memprofile need --only"))
	case *only == "":
		// one process per configuration, so that each peak memory is its own
		for _, name := range bench.Names() {
			cmd := exec.Command(os.Args[0], "bench", "--only", name, "--threads", strconv.Itoa(*threads),
				"--steps", strconv.Itoa(*steps), "--warmup", strconv.Itoa(*warmup), "--json="+strconv.FormatBool(*jsonOut))
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return errors.Wrapf(err, "bench %s", name)
			}
		}
		return nil
	}
	c, ok := bench.Lookup(*only)
	if !ok {
		return usage(errors.Errorf("unknown configuration %q (%s)", *only, strings.Join(bench.Names(), ", ")))
	}
	train.SetThreads(*threads)
	var res *bench.Result
	var err error
	if *rounds {
		res, err = bench.Rounds(c, *threads, *warmup, os.Stdin, os.Stdout)
	} else {
		res, err = bench.Run(c, *threads, *steps, *warmup, bench.Profiles{CPU: *cpuProfile, Mem: *memProfile})
	}
	if err != nil {
		return err
	}
	if *jsonOut {
		raw, _ := json.Marshal(res)
		fmt.Println(string(raw))
		return nil
	}
	fmt.Println(res)
	return nil
}
