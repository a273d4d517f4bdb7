package main

import (
	"github.com/triadml/triad/experiments/ctc"
)

func init() {
	experiment("ctc", "spoken digit sequences (Free Spoken Digit Dataset) with a bidirectional RNN and CTC", ctc.DefaultConfig, ctc.Run)
}
