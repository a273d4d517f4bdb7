// Command triad runs triad's experiments and tools: `triad <command> [flags]`,
// `triad <command> --help` for a command's flags and their defaults. Each
// experiment's command is a thin layer over its package under experiments/.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/triadml/triad/train"
)

// command is one entry of the table: a name of one or two words ("lm",
// "lm sample") and what runs it.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// usage marks a bad flag, config or dataset: exit status 2.
func usage(err error) error { return train.Usage(err) }

// exitInterrupted is the exit status of a command that Ctrl-C (or SIGTERM)
// stopped: the shell's for a process that SIGINT ended. It prints one line,
// "interrupted; checkpoint DIR/checkpoints/last.safetensors".
const exitInterrupted = 130

// gcPercent is the garbage collector's target growth unless GOGC sets one:
// once a run's programs have run, its steps allocate little (they borrow their
// store's arena), so collecting at 25% growth instead of Go's 100% costs no
// measurable time and keeps the peak resident memory near the live heap
// (translate's Transformer, 30 steps and the final evaluation on one thread:
// 3.6 GB at 100%, 2.0 GB at 25%, the same user time).
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:]))
}

// lookup finds the command args start with, the longest name first, and the
// arguments that follow it.
func lookup(args []string) (string, command, []string, bool) {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return args[0] + " " + args[1], c, args[2:], true
		}
	}
	c, ok := commands[args[0]]
	return args[0], c, args[1:], ok
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp()
		return 0
	}
	name, cmd, rest, ok := lookup(args)
	if !ok {
		fmt.Fprintf(os.Stderr, "triad: unknown command %q (one of: %s)\n", args[0], strings.Join(names(), ", "))
		return 2
	}
	if err := cmd.run(rest); err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "triad %s: %s\n", name, train.OneLine(err))
		switch {
		case errors.Is(err, train.ErrInterrupted):
			return exitInterrupted
		case train.IsUsage(err):
			return 2
		}
		return 1
	}
	return 0
}

func names() []string {
	var out []string
	for n := range commands {
		if !strings.HasPrefix(n, "__") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func printHelp() {
	fmt.Println("triad: experiments with recurrent networks, variational autoencoders, attention and Transformers on Gorgonia.")
	fmt.Println()
	fmt.Println("usage: triad <command> [flags]   (triad <command> --help lists the flags)")
	fmt.Println()
	for _, n := range names() {
		fmt.Printf("  %-18s %s\n", n, commands[n].summary)
	}
}
