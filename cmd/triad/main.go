// Command triad runs triad's experiments and tools. Each subcommand is one
// experiment; `triad <subcommand> --help` lists its hyperparameters and defaults.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/triadml/triad/train"
)

// command is one subcommand.
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

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp()
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "triad: unknown command %q (one of: %s)\n", args[0], strings.Join(names(), ", "))
		return 2
	}
	if err := cmd.run(args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "triad %s: %s\n", args[0], oneLine(err))
		if train.IsUsage(err) {
			return 2
		}
		return 1
	}
	return 0
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func names() []string {
	var out []string
	for n := range commands {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func printHelp() {
	fmt.Println("triad: experiments with recurrent networks, variational autoencoders and attention on Gorgonia.")
	fmt.Println()
	fmt.Println("usage: triad <command> [flags]   (triad <command> --help lists the flags)")
	fmt.Println()
	for _, n := range names() {
		fmt.Printf("  %-10s %s\n", n, commands[n].summary)
	}
}
