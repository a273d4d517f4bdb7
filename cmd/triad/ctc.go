package main

import (
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/ctc"
)

func init() {
	register("ctc", "spoken digit sequences (Free Spoken Digit Dataset) with a bidirectional RNN and CTC", ctcMain)
}

func ctcMain(args []string) error {
	cfg := ctc.DefaultConfig()
	if err := parseFlags("ctc", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := ctc.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintf(os.Stderr, "ctc: test digit error rate %.4f (greedy %.4f), sequence accuracy %.4f after %d steps, %.0f s, %d threads\n",
		sum.Final["test_der"], sum.Final["test_der_greedy"], sum.Final["test_seq_acc"], sum.Steps, sum.Seconds, sum.Threads)
	return nil
}
